"""`advise`: the decision tree that says which approach fits, and whether deep learning should wait."""
