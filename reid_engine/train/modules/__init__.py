"""Optional training modules: heads, auxiliary streams and losses around one ReID network (training only).

Each module pairs a frozen config dataclass with an ``nn.Module`` that follows
:class:`reid_engine.train.methods.MethodModule`; ``build_module`` in ``methods.py`` wires them by name.
"""
