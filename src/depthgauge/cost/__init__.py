"""Instance prices and what training and predictions cost at them."""
