//! The MPD of a chunked encode, stitched from the chunks' and the rest's.
