"""cnnbook: the NumPy package behind the cnnbook textbook on convolutional neural networks."""
__version__ = "0.1.0"
