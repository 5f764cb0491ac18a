"""Bluelight's nightly load, in rooms named for the way data travels: sources -> load ->
quality and transform -> schedule, with the warehouse file beneath them and `cli` on top."""
