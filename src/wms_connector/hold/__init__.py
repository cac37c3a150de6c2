"""The operator hold: "hands off this stage's connector for now", seen by every agent of the stage.

``record`` is the hold as a value and the rules for reading it (pure); ``store`` keeps it in the
stage's compacted hold topic (``naming.StageNames.hold_topic``) and holds a connector for the
duration of a procedure.
"""
