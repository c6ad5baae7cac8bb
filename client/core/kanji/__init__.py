"""漢字検索 (kanji search), Qt-free: find a character by reading, radical + strokes, total strokes
or code, with the ideographic variation sequences IPAmj明朝 defines for it. See :mod:`.index`."""
