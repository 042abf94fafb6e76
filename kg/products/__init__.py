"""Product text: attributes of product titles and their category in a product-type hierarchy.

``attributes`` reads specifications (model, storage, size, colour, network,
weight, volume, pack count) from a title with normalised values and UN/CEFACT
unit codes; ``categories`` places the title in the hierarchy of ``hierarchy``;
``facts`` turns both into schema.org triples with provenance for the builder.
"""
