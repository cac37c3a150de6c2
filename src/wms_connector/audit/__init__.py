"""The audit (issue 21): do the topics hold exactly what the source holds, at one point?

``compare`` is the pure core (decode, fold, compare, points); ``standin`` and ``oracle`` read the
source at the point, ``topic`` reads the topics and the connector's committed offset, ``run``
puts them in order, ``emf`` renders the metrics of a scheduled run.
"""
