"""IC card readers (カードリーダー): read the 券面事項 of a My Number card."""
