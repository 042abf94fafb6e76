"""kgpipe: pipeline commands."""
