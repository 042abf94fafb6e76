"""Loading a run's output into graph stores: Oxigraph, Virtuoso (RDF) and LadybugDB (a property graph)."""
