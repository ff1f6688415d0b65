"""Ark (Seedance) wire format shared by the byteplus and volcengine providers."""
