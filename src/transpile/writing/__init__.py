"""What the frameworks' writers share: rendering and formatting (``render``), the flow walk and name
numbering (``flow``), questions about the flow (``graph``), free names and closures (``deps``), and
option helpers (``options``)."""
