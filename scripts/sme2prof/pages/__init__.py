"""Pages stage: the learning path. Hugo build, checks, bundle, archive, page commands.

Why a sub-package: the pages are the product most readers meet first, so their
checks (front matter, links, images, file names, commands that really run) are code
with tests, like the rest of the kit, and ``scripts/site_tools.py`` stays thin.
"""
