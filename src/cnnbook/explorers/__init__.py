"""Interactive explorers of the book, one module per topic, each built on :mod:`cnnbook.explorer`.

- ``gallery``: the nine kernels on a photograph, translation equivariance (chapters 1 and 3);
- ``arithmetic``: one step of a correlation, convolution arithmetic (chapters 2 and 4);
- ``receptive``: one unit's receptive field through a stack of layers (chapter 4);
- ``backprop``: which outputs one input pixel feeds (chapter 5);
- ``pooling``: max and average pooling of a photograph (chapter 6);
- ``transposed``: transposed and dilated convolution (chapter 7);
- ``lenet``: a test digit through the trained LeNet, stage by stage (chapter 8);
- ``costs``: parameters and multiplications of the convolution family (chapter 9).

Each factory is decorated with :func:`cnnbook.explorer.explorer_factory`, and every explorer a chapter
shows is listed in :data:`cnnbook.explorer.BOOK`.
"""
