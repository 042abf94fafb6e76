"""kgpipe schemas: record types, Arrow schemas and the RDF vocabulary."""
