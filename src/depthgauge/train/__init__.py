"""The one PyTorch training loop every deep model shares."""
