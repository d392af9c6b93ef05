"""Reading the datasets as they lie on disk (MNIST's IDX files, the two domains' image
folders), for training and for scoring and sampling alike; the training loaders over
them are in :mod:`translate.training`."""
