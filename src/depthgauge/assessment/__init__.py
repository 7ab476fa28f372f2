"""Evaluate candidates on the five dimensions, test significance, give the verdict, write the report."""
