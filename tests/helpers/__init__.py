"""What several test modules share; fixtures stay in the conftest.py files."""
