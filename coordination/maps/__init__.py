"""folium map building for the live map and for reports, offline by construction."""
