"""Who is calling: credentials in, a principal out."""
