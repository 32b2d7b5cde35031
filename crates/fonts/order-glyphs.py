#!/usr/bin/python3
"""Orders the glyphs of a subset font so that the characters the kiosk shows every day come first.

usage: order-glyphs.py FONT.otf TEXT_FILE... (rewrites FONT.otf in place; needs fonttools >= 4.50
from PyPI, for fontTools.ttLib.reorderGlyphs)

Why: the fonts are embedded in the binary and read straight from its mapped pages. Every page
fault maps a block of neighbouring pages too, so glyphs scattered over the whole font make
most of its 4 MB resident although a screen draws a few hundred characters. Placed together,
the glyphs of the UI's and the catalog's text (then the rest of GB 2312's first level, then
everything else in the original order) touch far fewer pages.

The order of glyph ids changes nothing a reader sees: the script checks that every character
draws exactly the same outline before and after, and refuses to write otherwise.
"""
import io
import sys

from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont

try:
    from fontTools.ttLib.reorderGlyphs import reorderGlyphs
except ImportError:
    sys.exit("order-glyphs.py needs fonttools 4.50 or newer: pip install 'fonttools>=4.50'")


def gb2312_level1():
    """The 3,755 hanzi of GB 2312 level 1 (rows 16-55), in their (pinyin) order."""
    out = []
    for row in range(0xB0, 0xD8):
        for col in range(0xA1, 0xFF):
            try:
                out.append(bytes([row, col]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return out


def outlines(font, chars):
    cmap = font.getBestCmap()
    glyphs = font.getGlyphSet()
    out = {}
    for cp in chars:
        name = cmap[cp]
        pen = DecomposingRecordingPen(glyphs)
        glyphs[name].draw(pen)
        out[cp] = (pen.value, glyphs[name].width)
    return out


def xml(font, tables):
    """Each table as XML, where glyphs are named (so the text does not depend on their ids)."""
    out = {}
    for t in tables:
        buf = io.StringIO()
        font.saveXML(buf, tables=[t], skipTables=["GlyphOrder"])
        out[t] = buf.getvalue()
    return out if len(tables) > 1 else out[tables[0]]


def cmaps(font):
    """Every cmap subtable's mapping of characters to glyph names."""
    return {(t.platformID, t.platEncID, t.format): dict(t.cmap) for t in font["cmap"].tables}


def xml_of(saved, tag):
    return saved[tag] if isinstance(saved, dict) else saved


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    path, texts = sys.argv[1], sys.argv[2:]
    font = TTFont(path)
    if "CFF " not in font:
        sys.exit(f"{path}: not a CFF-flavoured OpenType font")
    order = font.getGlyphOrder()
    gid = {g: i for i, g in enumerate(order)}
    cmap = font.getBestCmap()
    shown = set()
    for t in texts:
        with open(t, encoding="utf-8") as f:
            shown.update(ord(c) for c in f.read())
    first = sorted({cmap[c] for c in shown if c in cmap}, key=gid.get)
    common = [cmap[ord(c)] for c in gb2312_level1() if ord(c) in cmap]
    new, seen = [], set()
    for g in [order[0]] + first + common + order:
        if g not in seen:
            seen.add(g)
            new.append(g)
    assert len(new) == len(order)

    # The layout tables are rewritten by fontTools' reorderGlyphs (sorted coverage tables and
    # their parallel arrays); the tables compared afterwards name glyphs, never number them.
    tables = [t for t in ("hmtx", "vmtx", "VORG") if t in font]
    font.ensureDecompiled()
    before = outlines(font, sorted(cmap))
    before_xml = xml(font, tables)
    before_cmaps = cmaps(font)
    cff = font["CFF "].cff
    top = cff.topDictIndex[0]
    # Charstrings are read lazily, each with the private dict its (old) id selects: read them
    # all before the ids change, and give FDSelect (a list by id) the new order too.
    for g in order:
        top.CharStrings[g].decompile()
    if hasattr(top, "FDSelect"):
        old = top.FDSelect.gidArray
        top.FDSelect.gidArray = [old[gid[g]] for g in new]
    reorderGlyphs(font, new)
    buf = io.BytesIO()
    font.save(buf)
    buf.seek(0)
    again = TTFont(buf)
    after = outlines(again, sorted(again.getBestCmap()))
    if before != after:
        bad = [chr(c) for c in before if before[c] != after.get(c)][:20]
        sys.exit(f"{path}: glyphs drawn differently after reordering: {''.join(bad)}; not written")
    changed = [t for t in tables if xml(again, [t]) != xml_of(before_xml, t)]
    if cmaps(again) != before_cmaps:
        changed.append("cmap")
    if changed:
        sys.exit(f"{path}: tables {', '.join(changed)} differ after reordering; not written")
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    print(f"{path}: {len(first)} glyphs of the given text first, then {len(common)} of GB 2312 level 1")


if __name__ == "__main__":
    main()
