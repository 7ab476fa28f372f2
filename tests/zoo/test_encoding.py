import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from depthgauge.zoo.encoding import TabularEncoder, column_quantiles

LEVELS = np.linspace(0, 1, 101)


@settings(max_examples=80, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 4)),
              elements=st.one_of(st.floats(-1e6, 1e6), st.just(np.nan))))
def test_column_quantiles_equal_numpy_nanquantile(matrix):
    got = column_quantiles(matrix, LEVELS)
    for j in range(matrix.shape[1]):
        column = matrix[:, j][~np.isnan(matrix[:, j])]
        expected = np.quantile(column, LEVELS) if len(column) else np.zeros(len(LEVELS))
        np.testing.assert_allclose(got[:, j], expected, rtol=1e-9, atol=1e-6)


def test_codes_reserve_zero_for_missing_and_unseen_and_survive_json():
    train = pd.DataFrame({"plan": ["a", "b", "b", None], "n": [1, 2, 3, 4]})
    encoder = TabularEncoder(numeric=["n"], categorical=["plan"]).fit(train)
    again = TabularEncoder.from_dict(encoder.to_dict())
    new = pd.DataFrame({"plan": ["b", "zzz", None, "a"], "n": [1, 1, 1, 1]})
    assert again.codes(new)[:, 0].tolist() == [1, 0, 0, 2]  # b is most frequent, so code 1


def test_integer_categories_match_what_was_learned_as_text():
    encoder = TabularEncoder(categorical=["store"]).fit(pd.DataFrame({"store": [7, 7, 9]}))
    assert encoder.codes(pd.DataFrame({"store": [9, 7, 8]}))[:, 0].tolist() == [2, 1, 0]
