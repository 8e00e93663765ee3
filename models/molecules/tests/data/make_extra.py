"""Regenerates extra.tsv and extra.rdkit.jsonl: SMILES forms ChEBI-20 never uses, featurised
exactly like the shared data's scripts/rd.py (RDKit 2026.09.1, Chem.MolFromSmiles defaults).

Run from this folder: python make_extra.py
"""
import json
from rdkit import Chem
cases=[
 ('lowercase benzene','c1ccccc1'),
 ('lowercase naphthalene','c1ccc2ccccc2c1'),
 ('lowercase pyrrole with [nH]','c1cc[nH]c1'),
 ('N-methylpyrrole','Cn1cccc1'),
 ('pyridine N-oxide','[O-][n+]1ccccc1'),
 ('2-pyridone','O=c1cccc[nH]1'),
 ('azulene','c1ccc2cccc-2cc1'),
 ('cyclooctatetraene written aromatic','c1ccccccc1'),
 ('cyclopentadienyl anion','c1cc[cH-]c1'),
 ('selenophene','c1cc[se]c1'),
 ('explicit hydrogens','[H]C([H])([H])O[H]'),
 ('explicit H on stereocentre','[H][C@@](C)(O)F'),
 ('explicit H in branch','F[C@]([H])(Cl)Br'),
 ('explicit H defining E/Z','[H]/C(F)=C/F'),
 ('hydrogen molecule kept','[H][H]'),
 ('hydride kept','[H-].[Na+]'),
 ('bond order at ring opening','CC=1CCC1C'),
 ('ring closure direction at opening','F/C=C/1.Br1'),
 ('ring closure direction at closing','F/C=C1.Br/1'),
 ('ring numbers sorted','C1CC2CC2CC1'),
 ('percent ring number','C%10CC%10'),
 ('nitro written hypervalent','CN(=O)=O'),
 ('azide written hypervalent','CN=N#N'),
 ('perchlorate written hypervalent','OCl(=O)(=O)=O'),
 ('ring E/Z suppressed in small ring','C1CCCC/C=C/1'),
 ('ring E/Z kept in 8-ring','C1CCCCCC/C=C/1'),
 ('meso ring stereo','C[C@@H]1CC[C@H](C)CC1'),
 ('pseudoasymmetric centre','OC[C@H](O)[C@@H](O)[C@H](O)CO'),
 ('sulfoxide stereo','C[S@](=O)c1ccccc1'),
 ('aziridine N stereo','C[N@@]1CC1'),
 ('dummy atom','*c1ccccc1'),
 ('radical','[CH2]C'),
 ('allene','CC=C=CC'),
 ('conflicting directions','F/C(/Cl)=C/F'),
]
t=open('extra.tsv','w'); j=open('extra.rdkit.jsonl','w')
t.write('CID\tSMILES\tdescription\n')
for i,(what,smi) in enumerate(cases,1):
    m=Chem.MolFromSmiles(smi)
    atoms=[[a.GetAtomicNum(), int(a.GetChiralTag()), a.GetDegree(), a.GetFormalCharge(), a.GetTotalNumHs(), a.GetNumRadicalElectrons(), int(a.GetHybridization()), int(a.GetIsAromatic()), int(a.IsInRing())] for a in m.GetAtoms()]
    bonds=[[b.GetBeginAtomIdx(), b.GetEndAtomIdx(), int(b.GetBondTypeAsDouble()*2), int(b.GetStereo()), int(b.GetIsConjugated())] for b in m.GetBonds()]
    t.write(f'{i}\t{smi}\t{what}\n')
    j.write(json.dumps({"cid":i,"ok":True,"n_atoms":len(atoms),"n_heavy":m.GetNumHeavyAtoms(),"n_bonds":len(bonds),"atoms":atoms,"bonds":bonds},separators=(',',':'))+'\n')
