"""Pure text functions: 和暦, check digits, kana/width normalisation and search keys."""
