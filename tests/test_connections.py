"""viz.show_connections: the bipartite graph and the matrix of a layer, one colour per distinct weight."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import cnnbook  # noqa: E402
from cnnbook import viz  # noqa: E402


def _line_colours(ax):
    return [tuple(line.get_color()) for line in ax.get_lines()]


def test_one_line_per_connection_and_shared_weights_share_a_colour():
    conv = cnnbook.conv_matrix(np.array([[1.0, 2.0, 3.0]]), (1, 6))   # 4 x 6, three weights repeated
    dense = np.arange(1.0, 25.0).reshape(4, 6)                          # 24 distinct weights
    fig = viz.show_connections({"convolution": conv, "fully connected": dense},
                               names={1.0: "w0", 2.0: "w1", 3.0: "w2"})
    (g_conv, m_conv), (g_dense, m_dense) = np.array(fig.axes).reshape(2, 2)
    assert len(g_conv.get_lines()) == 12 and len(g_dense.get_lines()) == 24
    assert len(set(_line_colours(g_conv))) == 3 and len(set(_line_colours(g_dense))) == 24
    # the lines of y_r = w0 x_r + w1 x_{r+1} + w2 x_{r+2}: each output's first line has the colour of w0
    first_of_each = _line_colours(g_conv)[::3]
    assert len(set(first_of_each)) == 1
    assert "12 connections, 3 distinct weights" in g_conv.get_title()
    assert sorted(t.get_text() for t in m_conv.texts) == sorted(["w0", "w1", "w2"] * 4)
    plt.close(fig)


def test_show_connections_rejects_a_non_matrix():
    with pytest.raises(ValueError, match=r"layers\['v'\] must be a 2-D"):
        viz.show_connections({"v": np.ones(3)})
    plt.close("all")
