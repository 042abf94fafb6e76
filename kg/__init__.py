"""kgpipe kg: from linked mentions to a graph people can load, check and look at.

``builder`` (records -> triples with provenance), ``iri`` (stable IRIs),
``relations`` (text relations, the extension point for relation extraction),
``export`` (Parquet, N-Triples/N-Quads shards, Turtle/JSON-LD), ``manifest``
(run ids, manifests, incremental runs), ``validate`` (strict parse + SHACL),
``graph`` (networkx analytics), ``report`` (single-file HTML), ``local``
(a whole run directory without Beam). Imports only ``schemas`` and the RDF/Arrow/networkx libraries; never Beam or TensorFlow.
"""
