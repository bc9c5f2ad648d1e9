"""Matplotlib figures for the chapters, drawn from cnnbook's own outputs.

Several chapters add to this module: add new functions below, never rewrite the file.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
