"""The book's Sphinx extension (tools/cnnbook_site.py): how printed output is joined."""
import nbformat

from cnnbook_site import merge_streams


def stream(name, text):
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_a_line_sent_in_two_chunks_stays_one_line():
    """print("identical outputs:", True) can reach the notebook as two chunks, cut mid-line."""
    outs = [stream("stdout", "identical outputs:"), stream("stdout", " True\n"),
            stream("stdout", "next line\n\n")]
    merged = merge_streams(outs)
    assert [o["text"] for o in merged] == ["identical outputs: True\nnext line\n"]
    assert outs[0]["text"] == "identical outputs:"          # the notebook's own outputs are left alone


def test_each_stream_merges_at_its_first_place_and_other_outputs_keep_their_order():
    figure = nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"})
    outs = [stream("stdout", "a"), stream("stderr", "warn\n"), figure, stream("stdout", "b\n")]
    merged = merge_streams(outs)
    assert [(o["output_type"], o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "ab\n"), ("stream", "stderr", "warn\n"), ("display_data", None, None)]
