"""kgpipe: pipeline."""
