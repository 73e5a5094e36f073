"""The works a descriptor rests on, as BibTeX entries: each descriptor's ``citations()`` lists those of its
method and of the software and data it computes with, as matminer's featurizers do.

Examples
--------
>>> from mdl.descriptors import get_descriptor
>>> [entry.split(",")[0] for entry in get_descriptor("morgan").citations()]
['@article{rogers2010ecfp', '@article{morgan1965', '@misc{rdkit']
"""

from __future__ import annotations

RDKIT = """@misc{rdkit,
  author = {Landrum, Greg and others},
  title = {{RDKit}: Open-source cheminformatics},
  howpublished = {\\url{https://www.rdkit.org}},
  doi = {10.5281/zenodo.591637}
}"""

ROGERS_HAHN_2010 = """@article{rogers2010ecfp,
  author = {Rogers, David and Hahn, Mathew},
  title = {Extended-Connectivity Fingerprints},
  journal = {Journal of Chemical Information and Modeling},
  volume = {50}, number = {5}, pages = {742--754}, year = {2010},
  doi = {10.1021/ci100160j}
}"""

MORGAN_1965 = """@article{morgan1965,
  author = {Morgan, H. L.},
  title = {The Generation of a Unique Machine Description for Chemical Structures -- A Technique Developed at
           Chemical Abstracts Service},
  journal = {Journal of Chemical Documentation},
  volume = {5}, number = {2}, pages = {107--113}, year = {1965},
  doi = {10.1021/c160017a018}
}"""

CARHART_1985 = """@article{carhart1985atompairs,
  author = {Carhart, Raymond E. and Smith, Dennis H. and Venkataraghavan, R.},
  title = {Atom pairs as molecular features in structure-activity studies: definition and applications},
  journal = {Journal of Chemical Information and Computer Sciences},
  volume = {25}, number = {2}, pages = {64--73}, year = {1985},
  doi = {10.1021/ci00046a002}
}"""

NILAKANTAN_1987 = """@article{nilakantan1987torsion,
  author = {Nilakantan, Ramaswamy and Bauman, Norman and Dixon, J. Scott and Venkataraghavan, R.},
  title = {Topological torsion: a new molecular descriptor for {SAR} applications. Comparison with other
           descriptors},
  journal = {Journal of Chemical Information and Computer Sciences},
  volume = {27}, number = {2}, pages = {82--85}, year = {1987},
  doi = {10.1021/ci00054a008}
}"""

DURANT_2002 = """@article{durant2002maccs,
  author = {Durant, Joseph L. and Leland, Burton A. and Henry, Douglas R. and Nourse, James G.},
  title = {Reoptimization of {MDL} Keys for Use in Drug Discovery},
  journal = {Journal of Chemical Information and Computer Sciences},
  volume = {42}, number = {6}, pages = {1273--1280}, year = {2002},
  doi = {10.1021/ci010132r}
}"""

XENONPY_2019 = """@article{yamada2019xenonpy,
  author = {Yamada, Hironao and Liu, Chang and Wu, Stephen and Koyama, Yukinori and Ju, Shenghong and
            Shiomi, Junichiro and Morikawa, Junko and Yoshida, Ryo},
  title = {Predicting Materials Properties with Little Data Using Shotgun Transfer Learning},
  journal = {ACS Central Science},
  volume = {5}, number = {10}, pages = {1717--1730}, year = {2019},
  doi = {10.1021/acscentsci.9b00804}
}"""

MAGPIE_2016 = """@article{ward2016magpie,
  author = {Ward, Logan and Agrawal, Ankit and Choudhary, Alok and Wolverton, Christopher},
  title = {A general-purpose machine learning framework for predicting properties of inorganic materials},
  journal = {npj Computational Materials},
  volume = {2}, pages = {16028}, year = {2016},
  doi = {10.1038/npjcompumats.2016.28}
}"""

MENDELEEV = """@misc{mendeleev,
  author = {Mentel, {\\L}ukasz},
  title = {mendeleev -- A Python resource for properties of chemical elements, ions and isotopes},
  howpublished = {\\url{https://github.com/lmmentel/mendeleev}},
  year = {2014}
}"""

ELEMNET_2018 = """@article{jha2018elemnet,
  author = {Jha, Dipendra and Ward, Logan and Paul, Arindam and Liao, Wei-keng and Choudhary, Alok and
            Wolverton, Chris and Agrawal, Ankit},
  title = {{ElemNet}: Deep Learning the Chemistry of Materials From Only Elemental Composition},
  journal = {Scientific Reports},
  volume = {8}, pages = {17593}, year = {2018},
  doi = {10.1038/s41598-018-35934-y}
}"""

PYMATGEN_2013 = """@article{ong2013pymatgen,
  author = {Ong, Shyue Ping and Richards, William Davidson and Jain, Anubhav and Hautier, Geoffroy and
            Kocher, Michael and Cholia, Shreyas and Gunter, Dan and Chevrier, Vincent L. and Persson,
            Kristin A. and Ceder, Gerbrand},
  title = {Python Materials Genomics (pymatgen): A robust, open-source python library for materials analysis},
  journal = {Computational Materials Science},
  volume = {68}, pages = {314--319}, year = {2013},
  doi = {10.1016/j.commatsci.2012.10.018}
}"""

SPGLIB_2024 = """@article{togo2024spglib,
  author = {Togo, Atsushi and Shinohara, Kohei and Tanaka, Isao},
  title = {Spglib: a software library for crystal symmetry search},
  journal = {Science and Technology of Advanced Materials: Methods},
  volume = {4}, number = {1}, pages = {2384822}, year = {2024},
  doi = {10.1080/27660400.2024.2384822}
}"""

SCHUTT_2014 = """@article{schutt2014rdf,
  author = {Sch{\\"u}tt, K. T. and Glawe, H. and Brockherde, F. and Sanna, A. and M{\\"u}ller, K. R. and
            Gross, E. K. U.},
  title = {How to represent crystal structures for machine learning: Towards fast prediction of electronic
           properties},
  journal = {Physical Review B},
  volume = {89}, number = {20}, pages = {205118}, year = {2014},
  doi = {10.1103/PhysRevB.89.205118}
}"""

CGCNN_2018 = """@article{xie2018cgcnn,
  author = {Xie, Tian and Grossman, Jeffrey C.},
  title = {Crystal Graph Convolutional Neural Networks for an Accurate and Interpretable Prediction of Material
           Properties},
  journal = {Physical Review Letters},
  volume = {120}, number = {14}, pages = {145301}, year = {2018},
  doi = {10.1103/PhysRevLett.120.145301}
}"""
