"""Monitoring: drift, live quality, operations, cost and business impact from the prediction log; alerts; retrain."""
