"""The API's routes, one router per concern; prediction is served by `serve/predict.py`."""
