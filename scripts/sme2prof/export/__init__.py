"""Export stage: a registered model package -> ``.pte`` lowered to XNNPACK, ETRecord, export record.

``model_registry`` finds model packages, ``exporter`` runs torch.export and the XNNPACK
lowering, ``quantize`` the int8 flow, ``delegation`` reads what was delegated, and
``artifacts`` names the files (free of torch, so later stages can find them cheaply).
"""
