"""The zoo's recipes (TOML), installed as the package ``mdl.registry``: find them with
:func:`mdl.zoo.recipes.registry_path`, never by a path relative to a source checkout."""
