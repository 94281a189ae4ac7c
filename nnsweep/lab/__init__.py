"""The lab report's experiments and claims: :mod:`.experiments` runs them; :mod:`.claims`,
:mod:`.without_activation` and :mod:`.vanishing_gradient` judge each claim from the
measured tables (:mod:`.measures`); :mod:`.discussion` writes discussion.md."""
