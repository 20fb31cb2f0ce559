"""One module per schema revision; the first creates the whole schema."""
