"""The bounds every piece of outside input is held to before any code looks at it.

No number in a body or query string goes past a signed 64-bit integer, and no id in a
path past what an ``Integer`` id column holds (32 bits on PostgreSQL): refusing them where
they are parsed turns what was an ``OverflowError`` deep in the driver into a plain 404
(path) or 400 (body, query string).
"""

from __future__ import annotations

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: Row ids are ``Integer`` primary keys: 32-bit on PostgreSQL, so a larger id names nothing.
ID_MAX = 2**31 - 1

#: A JSON body larger than this is refused before parsing (uploads go as multipart files
#: and have their own limit, ``MAX_CONTENT_LENGTH``).
JSON_MAX_BYTES = 4 * 1024 * 1024

#: No JSON this application reads nests deeper than a handful of levels (GeoJSON
#: multipolygons reach five); 64 leaves room and stops recursion bombs.
JSON_MAX_DEPTH = 64
