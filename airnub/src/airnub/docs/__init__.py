"""The docs site of a project: its notebooks executed once for readers (`build`), the nav from what exists (`nav`)."""
