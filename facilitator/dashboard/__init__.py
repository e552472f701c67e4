"""The admin dashboard: the view (`views`) and its server-rendered SVG charts (`charts`)."""
