"""kgpipe kg.export: Parquet (``parquet``), N-Triples/N-Quads lines and shards (``rdf``), other formats (``convert``)."""
