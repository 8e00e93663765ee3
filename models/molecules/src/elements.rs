//! Periodic-table data the perception steps need, as RDKit 2026.09 tabulates it.

// Atomic numbers that perception rules single out by name.
pub(crate) const CARBON: u8 = 6;
pub(crate) const NITROGEN: u8 = 7;
pub(crate) const OXYGEN: u8 = 8;
pub(crate) const PHOSPHORUS: u8 = 15;
pub(crate) const SULFUR: u8 = 16;
pub(crate) const ARSENIC: u8 = 33;
pub(crate) const SELENIUM: u8 = 34;

/// One element: its symbol, allowed valences, outer-shell electrons and most common isotope.
#[derive(Debug)]
pub(crate) struct Element {
    pub symbol: &'static str,
    /// Allowed valences, smallest first; `-1` means "any valence" (metals). The first is the default.
    pub valences: &'static [i8],
    pub outer_electrons: u8,
    pub common_isotope: u16,
}

impl Element {
    /// The default valence, or `None` for elements without one (transition metals, dummies).
    pub fn default_valence(&self) -> Option<u8> {
        u8::try_from(self.valences[0]).ok()
    }

    /// Whether the element accepts any valence (RDKit lists `-1` among its valences).
    pub fn any_valence(&self) -> bool {
        self.valences.contains(&-1)
    }
}

/// The element with this atomic number (0 is the `*` dummy atom).
pub(crate) fn element(atomic_number: u8) -> &'static Element {
    &ELEMENTS[usize::from(atomic_number)]
}

/// The atomic number of an element symbol with standard capitalisation.
pub(crate) fn atomic_number(symbol: &str) -> Option<u8> {
    ELEMENTS
        .iter()
        .position(|element| element.symbol == symbol)
        .and_then(|number| u8::try_from(number).ok())
}

/// The allowed valences of an atom with this charge: RDKit treats a charged p-block atom like the
/// isoelectronic neutral element (N+ like C, O- like F), and metals accept any valence.
pub(crate) fn allowed_valences(atomic_number: u8, formal_charge: i8) -> &'static [i8] {
    let own = element(atomic_number);
    if formal_charge == 0 || own.any_valence() {
        return own.valences;
    }
    let shifted = i16::from(atomic_number) - i16::from(formal_charge);
    match u8::try_from(shifted) {
        Ok(number) if number > 0 && usize::from(number) < ELEMENTS.len() => {
            element(number).valences
        }
        _ => &[],
    }
}

/// RDKit's crude electronegativity order: more outer electrons wins, then the lighter element.
pub(crate) fn more_electronegative(first: u8, second: u8) -> bool {
    let (outer_first, outer_second) = (
        element(first).outer_electrons,
        element(second).outer_electrons,
    );
    outer_first > outer_second || (outer_first == outer_second && first < second)
}

static ELEMENTS: [Element; 119] = [
    Element {
        symbol: "*",
        valences: &[-1],
        outer_electrons: 0,
        common_isotope: 0,
    },
    Element {
        symbol: "H",
        valences: &[1],
        outer_electrons: 1,
        common_isotope: 1,
    },
    Element {
        symbol: "He",
        valences: &[0],
        outer_electrons: 2,
        common_isotope: 4,
    },
    Element {
        symbol: "Li",
        valences: &[1, -1],
        outer_electrons: 1,
        common_isotope: 7,
    },
    Element {
        symbol: "Be",
        valences: &[2],
        outer_electrons: 2,
        common_isotope: 9,
    },
    Element {
        symbol: "B",
        valences: &[3],
        outer_electrons: 3,
        common_isotope: 11,
    },
    Element {
        symbol: "C",
        valences: &[4],
        outer_electrons: 4,
        common_isotope: 12,
    },
    Element {
        symbol: "N",
        valences: &[3],
        outer_electrons: 5,
        common_isotope: 14,
    },
    Element {
        symbol: "O",
        valences: &[2],
        outer_electrons: 6,
        common_isotope: 16,
    },
    Element {
        symbol: "F",
        valences: &[1],
        outer_electrons: 7,
        common_isotope: 19,
    },
    Element {
        symbol: "Ne",
        valences: &[0],
        outer_electrons: 8,
        common_isotope: 20,
    },
    Element {
        symbol: "Na",
        valences: &[1, -1],
        outer_electrons: 1,
        common_isotope: 23,
    },
    Element {
        symbol: "Mg",
        valences: &[2, -1],
        outer_electrons: 2,
        common_isotope: 24,
    },
    Element {
        symbol: "Al",
        valences: &[3],
        outer_electrons: 3,
        common_isotope: 27,
    },
    Element {
        symbol: "Si",
        valences: &[4],
        outer_electrons: 4,
        common_isotope: 28,
    },
    Element {
        symbol: "P",
        valences: &[3, 5],
        outer_electrons: 5,
        common_isotope: 31,
    },
    Element {
        symbol: "S",
        valences: &[2, 4, 6],
        outer_electrons: 6,
        common_isotope: 32,
    },
    Element {
        symbol: "Cl",
        valences: &[1],
        outer_electrons: 7,
        common_isotope: 35,
    },
    Element {
        symbol: "Ar",
        valences: &[0],
        outer_electrons: 8,
        common_isotope: 40,
    },
    Element {
        symbol: "K",
        valences: &[1, -1],
        outer_electrons: 1,
        common_isotope: 39,
    },
    Element {
        symbol: "Ca",
        valences: &[2, -1],
        outer_electrons: 2,
        common_isotope: 40,
    },
    Element {
        symbol: "Sc",
        valences: &[-1],
        outer_electrons: 3,
        common_isotope: 45,
    },
    Element {
        symbol: "Ti",
        valences: &[-1],
        outer_electrons: 4,
        common_isotope: 48,
    },
    Element {
        symbol: "V",
        valences: &[-1],
        outer_electrons: 5,
        common_isotope: 51,
    },
    Element {
        symbol: "Cr",
        valences: &[-1],
        outer_electrons: 6,
        common_isotope: 52,
    },
    Element {
        symbol: "Mn",
        valences: &[-1],
        outer_electrons: 7,
        common_isotope: 55,
    },
    Element {
        symbol: "Fe",
        valences: &[-1],
        outer_electrons: 8,
        common_isotope: 56,
    },
    Element {
        symbol: "Co",
        valences: &[-1],
        outer_electrons: 9,
        common_isotope: 59,
    },
    Element {
        symbol: "Ni",
        valences: &[-1],
        outer_electrons: 10,
        common_isotope: 58,
    },
    Element {
        symbol: "Cu",
        valences: &[-1],
        outer_electrons: 11,
        common_isotope: 63,
    },
    Element {
        symbol: "Zn",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 64,
    },
    Element {
        symbol: "Ga",
        valences: &[3],
        outer_electrons: 3,
        common_isotope: 69,
    },
    Element {
        symbol: "Ge",
        valences: &[4],
        outer_electrons: 4,
        common_isotope: 74,
    },
    Element {
        symbol: "As",
        valences: &[3, 5],
        outer_electrons: 5,
        common_isotope: 75,
    },
    Element {
        symbol: "Se",
        valences: &[2, 4, 6],
        outer_electrons: 6,
        common_isotope: 80,
    },
    Element {
        symbol: "Br",
        valences: &[1],
        outer_electrons: 7,
        common_isotope: 79,
    },
    Element {
        symbol: "Kr",
        valences: &[0],
        outer_electrons: 8,
        common_isotope: 84,
    },
    Element {
        symbol: "Rb",
        valences: &[1, -1],
        outer_electrons: 1,
        common_isotope: 85,
    },
    Element {
        symbol: "Sr",
        valences: &[2, -1],
        outer_electrons: 2,
        common_isotope: 88,
    },
    Element {
        symbol: "Y",
        valences: &[-1],
        outer_electrons: 3,
        common_isotope: 89,
    },
    Element {
        symbol: "Zr",
        valences: &[-1],
        outer_electrons: 4,
        common_isotope: 90,
    },
    Element {
        symbol: "Nb",
        valences: &[-1],
        outer_electrons: 5,
        common_isotope: 93,
    },
    Element {
        symbol: "Mo",
        valences: &[-1],
        outer_electrons: 6,
        common_isotope: 98,
    },
    Element {
        symbol: "Tc",
        valences: &[-1],
        outer_electrons: 7,
        common_isotope: 97,
    },
    Element {
        symbol: "Ru",
        valences: &[-1],
        outer_electrons: 8,
        common_isotope: 102,
    },
    Element {
        symbol: "Rh",
        valences: &[-1],
        outer_electrons: 9,
        common_isotope: 103,
    },
    Element {
        symbol: "Pd",
        valences: &[-1],
        outer_electrons: 10,
        common_isotope: 106,
    },
    Element {
        symbol: "Ag",
        valences: &[-1],
        outer_electrons: 11,
        common_isotope: 107,
    },
    Element {
        symbol: "Cd",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 114,
    },
    Element {
        symbol: "In",
        valences: &[3],
        outer_electrons: 3,
        common_isotope: 115,
    },
    Element {
        symbol: "Sn",
        valences: &[2, 4],
        outer_electrons: 4,
        common_isotope: 120,
    },
    Element {
        symbol: "Sb",
        valences: &[3, 5],
        outer_electrons: 5,
        common_isotope: 121,
    },
    Element {
        symbol: "Te",
        valences: &[2, 4, 6],
        outer_electrons: 6,
        common_isotope: 130,
    },
    Element {
        symbol: "I",
        valences: &[1, 3, 5],
        outer_electrons: 7,
        common_isotope: 127,
    },
    Element {
        symbol: "Xe",
        valences: &[0, 2, 4, 6],
        outer_electrons: 8,
        common_isotope: 132,
    },
    Element {
        symbol: "Cs",
        valences: &[1],
        outer_electrons: 1,
        common_isotope: 133,
    },
    Element {
        symbol: "Ba",
        valences: &[2, -1],
        outer_electrons: 2,
        common_isotope: 138,
    },
    Element {
        symbol: "La",
        valences: &[-1],
        outer_electrons: 3,
        common_isotope: 139,
    },
    Element {
        symbol: "Ce",
        valences: &[-1],
        outer_electrons: 4,
        common_isotope: 140,
    },
    Element {
        symbol: "Pr",
        valences: &[-1],
        outer_electrons: 3,
        common_isotope: 141,
    },
    Element {
        symbol: "Nd",
        valences: &[-1],
        outer_electrons: 4,
        common_isotope: 142,
    },
    Element {
        symbol: "Pm",
        valences: &[-1],
        outer_electrons: 5,
        common_isotope: 145,
    },
    Element {
        symbol: "Sm",
        valences: &[-1],
        outer_electrons: 6,
        common_isotope: 152,
    },
    Element {
        symbol: "Eu",
        valences: &[-1],
        outer_electrons: 7,
        common_isotope: 153,
    },
    Element {
        symbol: "Gd",
        valences: &[-1],
        outer_electrons: 8,
        common_isotope: 158,
    },
    Element {
        symbol: "Tb",
        valences: &[-1],
        outer_electrons: 9,
        common_isotope: 159,
    },
    Element {
        symbol: "Dy",
        valences: &[-1],
        outer_electrons: 10,
        common_isotope: 164,
    },
    Element {
        symbol: "Ho",
        valences: &[-1],
        outer_electrons: 11,
        common_isotope: 165,
    },
    Element {
        symbol: "Er",
        valences: &[-1],
        outer_electrons: 12,
        common_isotope: 166,
    },
    Element {
        symbol: "Tm",
        valences: &[-1],
        outer_electrons: 13,
        common_isotope: 169,
    },
    Element {
        symbol: "Yb",
        valences: &[-1],
        outer_electrons: 14,
        common_isotope: 174,
    },
    Element {
        symbol: "Lu",
        valences: &[-1],
        outer_electrons: 15,
        common_isotope: 175,
    },
    Element {
        symbol: "Hf",
        valences: &[-1],
        outer_electrons: 4,
        common_isotope: 180,
    },
    Element {
        symbol: "Ta",
        valences: &[-1],
        outer_electrons: 5,
        common_isotope: 181,
    },
    Element {
        symbol: "W",
        valences: &[-1],
        outer_electrons: 6,
        common_isotope: 184,
    },
    Element {
        symbol: "Re",
        valences: &[-1],
        outer_electrons: 7,
        common_isotope: 187,
    },
    Element {
        symbol: "Os",
        valences: &[-1],
        outer_electrons: 8,
        common_isotope: 192,
    },
    Element {
        symbol: "Ir",
        valences: &[-1],
        outer_electrons: 9,
        common_isotope: 193,
    },
    Element {
        symbol: "Pt",
        valences: &[-1],
        outer_electrons: 10,
        common_isotope: 195,
    },
    Element {
        symbol: "Au",
        valences: &[-1],
        outer_electrons: 11,
        common_isotope: 197,
    },
    Element {
        symbol: "Hg",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 202,
    },
    Element {
        symbol: "Tl",
        valences: &[-1],
        outer_electrons: 3,
        common_isotope: 205,
    },
    Element {
        symbol: "Pb",
        valences: &[2, 4],
        outer_electrons: 4,
        common_isotope: 208,
    },
    Element {
        symbol: "Bi",
        valences: &[3, 5],
        outer_electrons: 5,
        common_isotope: 209,
    },
    Element {
        symbol: "Po",
        valences: &[2, 4, 6],
        outer_electrons: 6,
        common_isotope: 209,
    },
    Element {
        symbol: "At",
        valences: &[1, 3, 5],
        outer_electrons: 7,
        common_isotope: 210,
    },
    Element {
        symbol: "Rn",
        valences: &[0],
        outer_electrons: 8,
        common_isotope: 222,
    },
    Element {
        symbol: "Fr",
        valences: &[1],
        outer_electrons: 1,
        common_isotope: 223,
    },
    Element {
        symbol: "Ra",
        valences: &[2, -1],
        outer_electrons: 2,
        common_isotope: 226,
    },
    Element {
        symbol: "Ac",
        valences: &[-1],
        outer_electrons: 3,
        common_isotope: 227,
    },
    Element {
        symbol: "Th",
        valences: &[-1],
        outer_electrons: 4,
        common_isotope: 232,
    },
    Element {
        symbol: "Pa",
        valences: &[-1],
        outer_electrons: 3,
        common_isotope: 231,
    },
    Element {
        symbol: "U",
        valences: &[-1],
        outer_electrons: 4,
        common_isotope: 238,
    },
    Element {
        symbol: "Np",
        valences: &[-1],
        outer_electrons: 5,
        common_isotope: 236,
    },
    Element {
        symbol: "Pu",
        valences: &[-1],
        outer_electrons: 6,
        common_isotope: 238,
    },
    Element {
        symbol: "Am",
        valences: &[-1],
        outer_electrons: 7,
        common_isotope: 241,
    },
    Element {
        symbol: "Cm",
        valences: &[-1],
        outer_electrons: 8,
        common_isotope: 243,
    },
    Element {
        symbol: "Bk",
        valences: &[-1],
        outer_electrons: 9,
        common_isotope: 247,
    },
    Element {
        symbol: "Cf",
        valences: &[-1],
        outer_electrons: 10,
        common_isotope: 249,
    },
    Element {
        symbol: "Es",
        valences: &[-1],
        outer_electrons: 11,
        common_isotope: 252,
    },
    Element {
        symbol: "Fm",
        valences: &[-1],
        outer_electrons: 12,
        common_isotope: 257,
    },
    Element {
        symbol: "Md",
        valences: &[-1],
        outer_electrons: 13,
        common_isotope: 258,
    },
    Element {
        symbol: "No",
        valences: &[-1],
        outer_electrons: 14,
        common_isotope: 259,
    },
    Element {
        symbol: "Lr",
        valences: &[-1],
        outer_electrons: 15,
        common_isotope: 262,
    },
    Element {
        symbol: "Rf",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 267,
    },
    Element {
        symbol: "Db",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 268,
    },
    Element {
        symbol: "Sg",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 271,
    },
    Element {
        symbol: "Bh",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 270,
    },
    Element {
        symbol: "Hs",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 269,
    },
    Element {
        symbol: "Mt",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 278,
    },
    Element {
        symbol: "Ds",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 281,
    },
    Element {
        symbol: "Rg",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 281,
    },
    Element {
        symbol: "Cn",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 285,
    },
    Element {
        symbol: "Nh",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 284,
    },
    Element {
        symbol: "Fl",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 289,
    },
    Element {
        symbol: "Mc",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 288,
    },
    Element {
        symbol: "Lv",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 293,
    },
    Element {
        symbol: "Ts",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 292,
    },
    Element {
        symbol: "Og",
        valences: &[-1],
        outer_electrons: 2,
        common_isotope: 294,
    },
];
