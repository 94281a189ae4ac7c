"""The lab report's experiments and claims: :mod:`.experiments` runs them, :mod:`.claims`
and :mod:`.without_activation` judge each claim from the measured tables (:mod:`.measures`),
:mod:`.discussion` writes discussion.md."""
