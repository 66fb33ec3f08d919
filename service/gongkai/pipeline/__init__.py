"""The document pipeline: one module per stage, each with typed inputs and outputs.

ingest/ (bytes → ``datamodel.Document``; one backend per format) → ocr/ (page images → the same lines
and grids) → layout (elements in reading order) → tables (page breaks joined, 二/三/四 classified) →
mapping (grids → statutory cell ids, by schema/) → checks/ (identities and soft checks) → repair
(OCR errors the identities expose) → narrative and nlp/ (sections, labels, facts, metadata) → result
(the result contract). ``extract`` wires them together.
"""
