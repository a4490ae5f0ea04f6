"""Report layer: the offline Natural Earth base map and the maps drawn on it."""
