"""Converter plugins shipped with interlayer; each is found through the ``interlayer.converters`` entry point
group, never imported by interlayer itself."""
