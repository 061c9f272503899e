"""Tools around the embeddable engine: recording readers, replay, batch prediction, ``har-live``.

Above ``har.runtime`` and below ``har.model``: a phone app imports ``har.runtime`` alone and never
pulls these in.
"""
