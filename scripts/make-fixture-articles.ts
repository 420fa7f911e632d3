/**
 * The synthetic articles behind `tests/fixtures/biomedica/`. Every title, caption and paragraph
 * here was written for this project; none is taken from a real article. The mix follows what
 * the curation filter and the later stages must cope with: bacterial skin infections (kept),
 * other skin conditions (kept by the label filter, dropped later by the category selection),
 * figures that are not skin photographs (dropped by the label filter), label case variants,
 * multi-panel figures, photographer credits in captions, and two broken samples.
 */

export interface FixtureFigure {
  /** Figure id in the article (`image_cluster_id`), the key of its `image_context` entry. */
  id: string;
  caption: string;
  /** Paragraphs of the article body that cite this figure, with their inline XML tags. */
  mentions: string[];
  primary: string[];
  secondary: string[];
  /** Sub-panels cut from one figure; each becomes its own sample sharing the figure id. */
  panels?: number;
  /** Breaks the sample on purpose to exercise the reader and the filter's drop counts. */
  broken?: 'no-image' | 'no-labels';
}

export interface FixtureArticle {
  pmcid: string;
  /**
   * The category (1-29, stages/select/categories.ts) of the condition the article's skin
   * photographs show, as its author meant it: the truth bench/llm-local.ts scores labellers
   * against. Not written into the shards (BIOMEDICA has no such field).
   */
  category: number;
  title: string;
  journal: string;
  date: string;
  license: string;
  keywords: string[];
  mesh: string[];
  abstract: string;
  figures: FixtureFigure[];
}

const CLINICAL = ['Clinical Imaging'];
const SKIN = ['skin lesion'];
const HISTOLOGY = { primary: ['Microscopy'], secondary: ['light microscopy'] };

function xref(fig: string, label: string): string {
  return `<xref ref-type="fig" rid="${fig}">${label}</xref>`;
}

function italic(text: string): string {
  return `<italic>${text}</italic>`;
}

export const fixtureArticles: FixtureArticle[] = [
  {
    pmcid: 'PMC0000101',
    category: 21,
    title: 'Bullous impetigo in a four-year-old child: a case report',
    journal: 'Synthetic Journal of Pediatric Dermatology',
    date: '2019-03-14',
    license: 'CC BY',
    keywords: ['impetigo', 'Staphylococcus aureus', 'children'],
    mesh: ['Impetigo', 'Staphylococcal Skin Infections', 'Child, Preschool'],
    abstract:
      'We describe a preschool child with flaccid bullae on the face and trunk caused by an exfoliative-toxin-producing Staphylococcus aureus, treated with topical mupirocin.',
    figures: [
      {
        id: 'F1',
        caption:
          'Flaccid bullae and shallow erosions with a collarette of scale on the left cheek and chin of a four-year-old boy.',
        mentions: [
          `On examination, several flaccid bullae 0.5-2 cm in diameter were present on the face, some ruptured and leaving moist erosions with a thin collarette of scale (${xref('F1', 'Figure 1')}).`,
          `Cultures of the blister fluid grew ${italic('Staphylococcus aureus')} sensitive to methicillin (${xref('F1', 'Figure 1')}).`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption:
          '(a) Ruptured bulla on the trunk with a honey-coloured varnish-like crust. (b) Same area after seven days of topical mupirocin, showing re-epithelialisation without scarring.',
        mentions: [
          `Lesions on the trunk evolved into thin varnish-like crusts (${xref('F2', 'Figure 2a')}) and healed without scarring after one week of treatment (${xref('F2', 'Figure 2b')}).`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
        panels: 2,
      },
      {
        id: 'F3',
        caption:
          'Skin biopsy showing a subcorneal cleft with a few acantholytic cells and neutrophils (haematoxylin and eosin, x200).',
        mentions: [
          `Histology confirmed a subcorneal split (${xref('F3', 'Figure 3')}), consistent with bullous impetigo.`,
        ],
        ...HISTOLOGY,
      },
    ],
  },
  {
    pmcid: 'PMC0000102',
    category: 21,
    title: 'An outbreak of non-bullous impetigo in a day-care centre',
    journal: 'Synthetic Reports in Infectious Diseases',
    date: '2020-09-02',
    license: 'CC BY-NC',
    keywords: ['impetigo contagiosa', 'outbreak', 'Streptococcus pyogenes'],
    mesh: ['Impetigo', 'Disease Outbreaks', 'Streptococcal Infections'],
    abstract:
      'Eleven children in one day-care centre developed honey-crusted facial lesions over three weeks; we report the investigation and the control measures.',
    figures: [
      {
        id: 'F1',
        caption:
          'Honey-coloured crusts around the nostrils and upper lip of the index case. Photograph courtesy of Dr. L. Marsh, community paediatrics.',
        mentions: [
          `The index case presented with golden, honey-coloured crusts on an erythematous base around the nose and mouth (${xref('F1', 'Figure 1')}).`,
          `Swabs from the crusts yielded ${italic('Streptococcus pyogenes')} and ${italic('Staphylococcus aureus')}.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption:
          'Satellite crusted erosions on the chin of a sibling, illustrating autoinoculation.',
        mentions: [
          `Satellite lesions appeared on the chin of a sibling two days later (${xref('F2', 'Figure 2')}), consistent with spread by scratching.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F3',
        caption: 'Epidemic curve of impetigo cases by week of onset.',
        mentions: [`Cases peaked in the second week (${xref('F3', 'Figure 3')}).`],
        primary: ['Chart'],
        secondary: ['bar chart'],
      },
    ],
  },
  {
    pmcid: 'PMC0000103',
    category: 21,
    title: 'Lower-limb cellulitis in an older adult with venous insufficiency',
    journal: 'Synthetic Clinical Case Reports',
    date: '2018-11-20',
    license: 'CC BY',
    keywords: ['cellulitis', 'venous insufficiency', 'lymphoedema'],
    mesh: ['Cellulitis', 'Venous Insufficiency', 'Aged'],
    abstract:
      'A 71-year-old woman with chronic venous insufficiency developed unilateral painful erythema of the shin with fever; she responded to intravenous flucloxacillin.',
    figures: [
      {
        id: 'F1',
        caption:
          'Poorly demarcated, warm, tender erythema and oedema of the right shin with a small portal of entry at the ankle.',
        mentions: [
          `The right lower leg showed diffuse erythema with ill-defined borders, warmth and pitting oedema (${xref('F1', 'Figure 1')}); a fissure between the toes was the likely portal of entry.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption:
          'The erythema marked with a skin pen on admission and 48 hours later, showing regression under intravenous antibiotics.',
        mentions: [
          `The margin of erythema was outlined on admission and had receded by 48 hours (${xref('F2', 'Figure 2')}).`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F3',
        caption: 'Plain radiograph of the right tibia without periosteal reaction or gas.',
        mentions: [
          `A radiograph excluded osteomyelitis and soft-tissue gas (${xref('F3', 'Figure 3')}).`,
        ],
        primary: CLINICAL,
        secondary: ['x-ray radiography'],
      },
    ],
  },
  {
    pmcid: 'PMC0000104',
    category: 21,
    title: 'Facial erysipelas with a sharply raised border',
    journal: 'Synthetic Journal of Emergency Medicine Images',
    date: '2021-01-08',
    license: 'CC BY',
    keywords: ['erysipelas', 'streptococcus', 'face'],
    mesh: ['Erysipelas', 'Streptococcal Infections', 'Face'],
    abstract:
      'A 58-year-old man presented with fever and a bright red, shiny, sharply demarcated plaque on the cheek and nose after a minor abrasion.',
    figures: [
      {
        id: 'F1',
        caption:
          'Bright red, shiny, indurated plaque with a sharply demarcated raised border over the right cheek and nasal bridge.',
        mentions: [
          `The plaque had a palpable, sharply demarcated edge (${xref('F1', 'Figure 1')}), the hallmark of erysipelas as opposed to the deeper cellulitis.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Close-up of the edge of the plaque showing small tense vesicles.',
        mentions: [
          `Small vesicles formed along the advancing edge (${xref('F2', 'Figure 2')}). Blood cultures grew group A ${italic('Streptococcus')}.`,
        ],
        primary: ['Clinical Imaging'],
        secondary: ['Skin Lesion'],
      },
    ],
  },
  {
    pmcid: 'PMC0000105',
    category: 21,
    title: 'Hot tub folliculitis after a spa weekend',
    journal: 'Synthetic Reports in Infectious Diseases',
    date: '2017-06-30',
    license: 'CC BY-NC-ND',
    keywords: ['folliculitis', 'Pseudomonas aeruginosa', 'whirlpool'],
    mesh: ['Folliculitis', 'Pseudomonas Infections', 'Baths'],
    abstract:
      'Three friends developed itchy follicular papules and pustules under their swimsuits two days after using a poorly maintained whirlpool.',
    figures: [
      {
        id: 'F1',
        caption:
          'Numerous follicular erythematous papules and pustules on the flank and buttocks in the distribution of the swimsuit.',
        mentions: [
          `Follicular papulopustules were concentrated in areas covered by the swimsuit (${xref('F1', 'Figure 1')}).`,
          `${italic('Pseudomonas aeruginosa')} was isolated from a pustule and from the whirlpool water.`,
        ],
        primary: ['clinical imaging'],
        secondary: ['skin lesion'],
      },
      {
        id: 'F2',
        caption: 'Dermoscopy-free close-up of pustules centred on hair follicles.',
        mentions: [`Each pustule was pierced by a hair (${xref('F2', 'Figure 2')}).`],
        primary: ['CLINICAL IMAGING'],
        secondary: ['SKIN LESION'],
      },
    ],
  },
  {
    pmcid: 'PMC0000106',
    category: 21,
    title: 'Recurrent furunculosis and a carbuncle caused by PVL-positive MRSA',
    journal: 'Synthetic Journal of Dermatology Cases',
    date: '2022-04-11',
    license: 'CC BY',
    keywords: ['furuncle', 'carbuncle', 'MRSA', 'Panton-Valentine leukocidin'],
    mesh: ['Furunculosis', 'Carbuncle', 'Methicillin-Resistant Staphylococcus aureus'],
    abstract:
      'A 26-year-old athlete had recurrent boils over a year and then a carbuncle on the nape; a PVL-positive MRSA strain was identified and decolonisation was undertaken.',
    figures: [
      {
        id: 'F1',
        caption: 'Tender erythematous nodule with a central yellow point on the thigh (furuncle).',
        mentions: [
          `A typical furuncle was a painful, red nodule with a central pustular point (${xref('F1', 'Figure 1')}).`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption:
          'Carbuncle on the nape: a large indurated plaque with multiple draining follicular openings.',
        mentions: [
          `On the nape, coalescent furuncles formed a carbuncle with several sinus openings discharging pus (${xref('F2', 'Figure 2')}).`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F3',
        caption: 'Ultrasound of the nape showing a hypoechoic multiloculated collection.',
        mentions: [`Ultrasound showed a multiloculated collection (${xref('F3', 'Figure 3')}).`],
        primary: CLINICAL,
        secondary: ['ultrasound'],
      },
    ],
  },
  {
    pmcid: 'PMC0000107',
    category: 21,
    title: 'Skin abscess of the axilla: incision and drainage in primary care',
    journal: 'Synthetic Family Practice Images',
    date: '2016-02-19',
    license: 'CC BY',
    keywords: ['abscess', 'incision and drainage', 'axilla'],
    mesh: ['Abscess', 'Drainage', 'Primary Health Care'],
    abstract:
      'We illustrate the recognition of a fluctuant cutaneous abscess and its management by incision and drainage without systemic antibiotics.',
    figures: [
      {
        id: 'F1',
        caption:
          'Fluctuant, dome-shaped, erythematous swelling in the left axilla with surrounding induration. Image courtesy of the patient and Dr. R. Okafor.',
        mentions: [
          `The swelling was fluctuant with a rim of induration (${xref('F1', 'Figure 1')}), indicating a collection amenable to drainage.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Purulent discharge after incision; the cavity was irrigated and left open.',
        mentions: [
          `Incision released thick pus (${xref('F2', 'Figure 2')}); culture grew ${italic('Staphylococcus aureus')}.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
    ],
  },
  {
    pmcid: 'PMC0000108',
    category: 21,
    title: 'Ecthyma in a returning traveller',
    journal: 'Synthetic Travel Medicine Reports',
    date: '2019-08-25',
    license: 'CC BY',
    keywords: ['ecthyma', 'traveller', 'streptococcus'],
    mesh: ['Ecthyma', 'Travel', 'Streptococcal Infections'],
    abstract:
      'After a trek in a humid climate, a 34-year-old man developed punched-out ulcers with adherent crusts on both shins following insect bites.',
    figures: [
      {
        id: 'F1',
        caption:
          'Punched-out ulcers covered by thick greyish-yellow adherent crusts with a violaceous rim on the shins.',
        mentions: [
          `Several ulcers with adherent crusts and raised violaceous margins were seen on both shins (${xref('F1', 'Figure 1')}).`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'After removal of the crust: a shallow ulcer with a purulent base.',
        mentions: [
          `Removing the crust revealed a shallow purulent ulcer (${xref('F2', 'Figure 2')}), distinguishing ecthyma from impetigo by its depth.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
    ],
  },
  {
    pmcid: 'PMC0000109',
    category: 21,
    title: "Erythrasma of the groin revealed by Wood's lamp",
    journal: 'Synthetic Journal of Dermatology Cases',
    date: '2020-12-03',
    license: 'CC0',
    keywords: ['erythrasma', 'Corynebacterium minutissimum', "Wood's lamp"],
    mesh: ['Erythrasma', 'Corynebacterium Infections', 'Ultraviolet Rays'],
    abstract:
      "A diabetic man had asymptomatic reddish-brown patches in both groins, initially treated as tinea; Wood's lamp examination showed coral-red fluorescence.",
    figures: [
      {
        id: 'F1',
        caption:
          'Well-demarcated reddish-brown patches with fine scale in the inguinal folds, without central clearing.',
        mentions: [
          `Both groins showed uniform reddish-brown patches with fine wrinkling (${xref('F1', 'Figure 1')}), lacking the active scaly border of tinea cruris.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: "Coral-red fluorescence of the patches under Wood's lamp.",
        mentions: [
          `Under Wood's light the patches fluoresced coral red (${xref('F2', 'Figure 2')}), due to porphyrins produced by ${italic('Corynebacterium minutissimum')}.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
    ],
  },
  {
    pmcid: 'PMC0000110',
    category: 21,
    title: 'Necrotizing fasciitis of the thigh: early recognition saves limbs',
    journal: 'Synthetic Surgical Case Reports',
    date: '2021-07-17',
    license: 'CC BY',
    keywords: ['necrotizing fasciitis', 'LRINEC', 'debridement'],
    mesh: ['Fasciitis, Necrotizing', 'Debridement', 'Soft Tissue Infections'],
    abstract:
      'A 49-year-old man with diabetes presented with pain out of proportion to a modest erythema of the thigh that progressed within hours to dusky skin and bullae.',
    figures: [
      {
        id: 'F1',
        caption:
          'Dusky violaceous discolouration with haemorrhagic bullae and areas of skin necrosis on the medial thigh.',
        mentions: [
          `Within six hours the erythema became dusky with haemorrhagic bullae (${xref('F1', 'Figure 1')}); pain was out of proportion to the skin findings.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Axial CT of the thighs showing gas tracking along the fascial planes.',
        mentions: [`CT showed gas along the fascia (${xref('F2', 'Figure 2')}).`],
        primary: CLINICAL,
        secondary: ['computerized tomography'],
      },
      {
        id: 'F3',
        caption:
          'Skin of the thigh after the second debridement, with grey necrotic fascia at the wound edge.',
        mentions: [
          `Repeated debridement removed grey, non-bleeding fascia (${xref('F3', 'Figure 3')}); ${italic('Streptococcus pyogenes')} grew from tissue samples.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
    ],
  },
  {
    pmcid: 'PMC0000111',
    category: 21,
    title: 'Staphylococcal scalded skin syndrome in a neonate',
    journal: 'Synthetic Journal of Pediatric Dermatology',
    date: '2018-05-09',
    license: 'CC BY-NC',
    keywords: ['staphylococcal scalded skin syndrome', 'neonate', 'exfoliative toxin'],
    mesh: ['Staphylococcal Scalded Skin Syndrome', 'Infant, Newborn', 'Exfoliatins'],
    abstract:
      'A ten-day-old infant developed perioral crusting followed by generalised tender erythema and superficial peeling; Nikolsky sign was positive.',
    figures: [
      {
        id: 'F1',
        caption:
          'Radial perioral crusting and fissuring with diffuse erythema of the face in a ten-day-old infant.',
        mentions: [
          `The disease began with radial crusting around the mouth (${xref('F1', 'Figure 1')}), sparing the oral mucosa.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption:
          'Wrinkled, superficial peeling of the skin of the neck and axilla leaving moist red erosions (positive Nikolsky sign).',
        mentions: [
          `Gentle pressure caused the superficial epidermis to slide off (${xref('F2', 'Figure 2')}); the toxin targets desmoglein 1 in the granular layer.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
        panels: 2,
      },
    ],
  },
  {
    pmcid: 'PMC0000112',
    category: 21,
    title: 'Lupus vulgaris and scrofuloderma: two faces of cutaneous tuberculosis',
    journal: 'Synthetic Journal of Tropical Dermatology',
    date: '2015-10-28',
    license: 'CC BY',
    keywords: ['cutaneous tuberculosis', 'lupus vulgaris', 'scrofuloderma'],
    mesh: ['Tuberculosis, Cutaneous', 'Lupus Vulgaris', 'Mycobacterium tuberculosis'],
    abstract:
      'We present two patients with cutaneous tuberculosis: a slowly enlarging plaque on the cheek and draining sinuses over cervical lymph nodes.',
    figures: [
      {
        id: 'F1',
        caption:
          'Reddish-brown plaque with an atrophic centre on the cheek; diascopy showed apple-jelly nodules.',
        mentions: [
          `Diascopy of the plaque revealed apple-jelly coloured nodules (${xref('F1', 'Figure 1')}), characteristic of lupus vulgaris.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption:
          'Ulcers with undermined bluish edges and draining sinuses over the cervical lymph nodes (scrofuloderma).',
        mentions: [
          `In the second patient, cold abscesses over cervical nodes broke down into ulcers with undermined edges (${xref('F2', 'Figure 2')}).`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F3',
        caption: 'Dermal tuberculoid granulomas with caseation (haematoxylin and eosin, x100).',
        mentions: [`Biopsy showed caseating granulomas (${xref('F3', 'Figure 3')}).`],
        ...HISTOLOGY,
      },
    ],
  },
  {
    pmcid: 'PMC0000113',
    category: 21,
    title: 'Borderline tuberculoid leprosy presenting as an anaesthetic plaque',
    journal: 'Synthetic Journal of Tropical Dermatology',
    date: '2017-03-06',
    license: 'CC BY',
    keywords: ['leprosy', 'Hansen disease', 'Mycobacterium leprae'],
    mesh: ['Leprosy, Borderline', 'Mycobacterium leprae', 'Hypesthesia'],
    abstract:
      'A 40-year-old farmer had a hypopigmented, anaesthetic plaque on the forearm with a thickened ulnar nerve; slit-skin smears were negative.',
    figures: [
      {
        id: 'F1',
        caption:
          'Well-defined hypopigmented, dry, hairless plaque with a raised erythematous edge and satellite lesions on the forearm.',
        mentions: [
          `The plaque was anaesthetic to light touch and temperature (${xref('F1', 'Figure 1')}), and the ulnar nerve was palpably thickened.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Claw deformity of the fourth and fifth fingers of the same patient.',
        mentions: [
          `Ulnar neuropathy had produced early clawing (${xref('F2', 'Figure 2')}).`,
          `Multidrug therapy was started according to WHO guidance.`,
        ],
        primary: ['Clinical Imaging', 'Microscopy'],
        secondary: ['skin lesion', 'light microscopy'],
      },
      {
        id: 'F3',
        caption: 'Granulomas along dermal nerves; Fite stain negative for bacilli.',
        mentions: [`Granulomas followed the dermal nerves (${xref('F3', 'Figure 3')}).`],
        ...HISTOLOGY,
      },
    ],
  },
  {
    pmcid: 'PMC0000114',
    category: 21,
    title: 'Erythema migrans after a tick bite in a forest worker',
    journal: 'Synthetic Reports in Infectious Diseases',
    date: '2022-08-15',
    license: 'CC BY',
    keywords: ['erythema migrans', 'Lyme borreliosis', 'tick bite'],
    mesh: ['Erythema Chronicum Migrans', 'Lyme Disease', 'Tick Bites'],
    abstract:
      'Ten days after a tick bite, a forest worker noticed an expanding annular erythema on the thigh; doxycycline was prescribed without serology.',
    figures: [
      {
        id: 'F1',
        caption:
          'Expanding annular erythema, 14 cm across, with central clearing around the bite site on the posterior thigh. Photograph courtesy of J. Lindqvist.',
        mentions: [
          `An annular erythema with central clearing had expanded over a week (${xref('F1', 'Figure 1')}); the diagnosis of erythema migrans is clinical.`,
          `Early Lyme borreliosis is caused by ${italic('Borrelia burgdorferi')} sensu lato.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Homogeneous oval erythema without central clearing in a second patient.',
        mentions: [
          `Not every erythema migrans shows a target pattern; many are homogeneous (${xref('F2', 'Figure 2')}).`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
    ],
  },
  {
    pmcid: 'PMC0000115',
    category: 17,
    title: 'Impetiginised atopic eczema in a toddler',
    journal: 'Synthetic Journal of Pediatric Dermatology',
    date: '2023-02-01',
    license: 'CC BY',
    keywords: ['atopic dermatitis', 'secondary infection', 'impetiginisation'],
    mesh: ['Dermatitis, Atopic', 'Staphylococcal Skin Infections'],
    abstract:
      'A toddler with atopic eczema had a flare with weeping and yellow crusting in the flexures; swabs grew Staphylococcus aureus.',
    figures: [
      {
        id: 'F1',
        caption:
          'Weeping eczematous plaques with yellow crusts in the antecubital fossae, indicating secondary bacterial infection.',
        mentions: [
          `The flexural eczema was weeping and crusted (${xref('F1', 'Figure 1')}), prompting a swab and a short course of oral antibiotics.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'The same flexures after two weeks of treatment.',
        mentions: [`The crusts cleared within two weeks (${xref('F2', 'Figure 2')}).`],
        primary: CLINICAL,
        secondary: SKIN,
      },
    ],
  },
  {
    pmcid: 'PMC0000116',
    category: 13,
    title: 'Chronic plaque psoriasis treated with a biologic',
    journal: 'Synthetic Journal of Dermatology Cases',
    date: '2021-10-10',
    license: 'CC BY',
    keywords: ['psoriasis', 'biologic therapy', 'PASI'],
    mesh: ['Psoriasis', 'Biological Products'],
    abstract:
      'A 45-year-old man with extensive plaque psoriasis reached PASI 90 after sixteen weeks of an interleukin-17 inhibitor.',
    figures: [
      {
        id: 'F1',
        caption:
          'Well-demarcated erythematous plaques with thick silvery-white scale on the extensor elbows and knees.',
        mentions: [
          `Plaques with silvery scale covered the extensor surfaces (${xref('F1', 'Figure 1')}); nail pitting was present.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Near-complete clearance after sixteen weeks of treatment.',
        mentions: [`After sixteen weeks only faint macules remained (${xref('F2', 'Figure 2')}).`],
        primary: CLINICAL,
        secondary: SKIN,
      },
    ],
  },
  {
    pmcid: 'PMC0000117',
    category: 11,
    title: 'Tinea corporis mistaken for nummular eczema',
    journal: 'Synthetic Family Practice Images',
    date: '2019-01-22',
    license: 'CC BY-NC',
    keywords: ['tinea corporis', 'dermatophyte', 'tinea incognito'],
    mesh: ['Tinea', 'Trichophyton', 'Diagnostic Errors'],
    abstract:
      'Annular scaly plaques on the trunk worsened under topical steroids; potassium hydroxide microscopy showed branching hyphae.',
    figures: [
      {
        id: 'F1',
        caption:
          'Annular plaques with an active scaly red border and central clearing on the trunk.',
        mentions: [
          `The plaques had an advancing scaly edge with central clearing (${xref('F1', 'Figure 1')}).`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Potassium hydroxide preparation with septate branching hyphae (x400).',
        mentions: [`KOH microscopy showed hyphae (${xref('F2', 'Figure 2')}).`],
        ...HISTOLOGY,
      },
    ],
  },
  {
    pmcid: 'PMC0000118',
    category: 10,
    title: 'Common warts on the hands of a butcher',
    journal: 'Synthetic Occupational Dermatology',
    date: '2016-09-13',
    license: 'CC BY',
    keywords: ['verruca vulgaris', 'human papillomavirus', 'occupational'],
    mesh: ['Warts', 'Papillomavirus Infections', 'Occupational Diseases'],
    abstract:
      'Multiple hyperkeratotic papules on the fingers of a meat handler; cryotherapy cleared most lesions within three sessions.',
    figures: [
      {
        id: 'F1',
        caption:
          'Multiple rough hyperkeratotic papules with black dots (thrombosed capillaries) on the fingers.',
        mentions: [
          `The papules showed pinpoint black dots after paring (${xref('F1', 'Figure 1')}).`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Periungual wart lifting the nail fold. Courtesy of Dr. P. Hansen.',
        mentions: [`A periungual wart distorted the nail fold (${xref('F2', 'Figure 2')}).`],
        primary: CLINICAL,
        secondary: SKIN,
      },
    ],
  },
  {
    pmcid: 'PMC0000119',
    category: 20,
    title: 'Superficial spreading melanoma on the back',
    journal: 'Synthetic Journal of Skin Cancer',
    date: '2022-06-27',
    license: 'CC BY',
    keywords: ['melanoma', 'dermoscopy', 'ABCDE'],
    mesh: ['Melanoma', 'Skin Neoplasms', 'Dermoscopy'],
    abstract:
      'A changing pigmented lesion on the back of a 62-year-old woman proved to be a superficial spreading melanoma, Breslow 0.6 mm.',
    figures: [
      {
        id: 'F1',
        caption:
          'Asymmetric pigmented macule, 11 mm, with irregular borders and several shades of brown and black.',
        mentions: [
          `The lesion fulfilled several ABCDE criteria (${xref('F1', 'Figure 1')}), and the patient reported recent growth.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Dermoscopy showing an atypical pigment network and blue-white veil.',
        mentions: [
          `Dermoscopy showed an atypical network and a blue-white veil (${xref('F2', 'Figure 2')}).`,
        ],
        primary: CLINICAL,
        secondary: ['skin lesion', 'dermoscopy'],
      },
      {
        id: 'F3',
        caption: 'Atypical melanocytes in pagetoid spread (haematoxylin and eosin, x200).',
        mentions: [`Histology confirmed melanoma (${xref('F3', 'Figure 3')}).`],
        ...HISTOLOGY,
      },
    ],
  },
  {
    pmcid: 'PMC0000120',
    category: 18,
    title: 'Chronic hand eczema in a hairdresser',
    journal: 'Synthetic Occupational Dermatology',
    date: '2020-03-18',
    license: 'CC BY-NC',
    keywords: ['hand eczema', 'contact allergy', 'hairdresser'],
    mesh: ['Eczema', 'Hand Dermatoses', 'Occupational Diseases'],
    abstract:
      'A hairdresser had fissured, lichenified plaques on both palms; patch testing was positive to p-phenylenediamine.',
    figures: [
      {
        id: 'F1',
        caption: 'Lichenified, fissured, scaly plaques on both palms and the fingertips.',
        mentions: [
          `Both palms were lichenified with painful fissures (${xref('F1', 'Figure 1')}).`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Vesicles on the sides of the fingers during a flare.',
        mentions: [`Flares brought deep-seated vesicles (${xref('F2', 'Figure 2')}).`],
        primary: CLINICAL,
        secondary: SKIN,
        broken: 'no-image',
      },
    ],
  },
  {
    pmcid: 'PMC0000121',
    category: 29,
    title: 'Community-acquired pneumonia in a young adult: imaging findings',
    journal: 'Synthetic Radiology Cases',
    date: '2018-12-01',
    license: 'CC BY',
    keywords: ['pneumonia', 'chest radiograph', 'computed tomography'],
    mesh: ['Pneumonia', 'Radiography, Thoracic'],
    abstract:
      'A 23-year-old with fever and cough had right lower lobe consolidation; we review the imaging signs.',
    figures: [
      {
        id: 'F1',
        caption: 'Chest radiograph with right lower lobe consolidation and air bronchograms.',
        mentions: [`The radiograph showed consolidation (${xref('F1', 'Figure 1')}).`],
        primary: CLINICAL,
        secondary: ['x-ray radiography'],
      },
      {
        id: 'F2',
        caption: 'Axial CT confirming lobar consolidation without cavitation.',
        mentions: [`CT confirmed the consolidation (${xref('F2', 'Figure 2')}).`],
        primary: CLINICAL,
        secondary: ['computerized tomography'],
      },
    ],
  },
  {
    pmcid: 'PMC0000122',
    category: 29,
    title: 'Minimal change disease on renal biopsy',
    journal: 'Synthetic Nephropathology',
    date: '2017-11-11',
    license: 'CC BY',
    keywords: ['nephrotic syndrome', 'renal biopsy'],
    mesh: ['Nephrosis, Lipoid', 'Biopsy'],
    abstract: 'Light and electron microscopy of a renal biopsy in a child with nephrotic syndrome.',
    figures: [
      {
        id: 'F1',
        caption: 'Normal-appearing glomerulus on light microscopy (periodic acid-Schiff, x400).',
        mentions: [`Glomeruli looked normal (${xref('F1', 'Figure 1')}).`],
        ...HISTOLOGY,
      },
      {
        id: 'F2',
        caption: 'Electron micrograph showing diffuse effacement of podocyte foot processes.',
        mentions: [`Foot processes were effaced (${xref('F2', 'Figure 2')}).`],
        primary: ['Microscopy'],
        secondary: ['electron microscopy'],
      },
    ],
  },
  {
    pmcid: 'PMC0000123',
    category: 21,
    title: 'A pathway for managing skin and soft tissue infections in the emergency department',
    journal: 'Synthetic Emergency Medicine',
    date: '2023-05-05',
    license: 'CC BY',
    keywords: ['skin and soft tissue infection', 'clinical pathway', 'antibiotic stewardship'],
    mesh: ['Soft Tissue Infections', 'Critical Pathways'],
    abstract:
      'We designed and audited a pathway for cellulitis and abscess in the emergency department.',
    figures: [
      {
        id: 'F1',
        caption: 'Flowchart of the pathway from triage to discharge.',
        mentions: [`The pathway is summarised in ${xref('F1', 'Figure 1')}.`],
        primary: ['Illustrative Diagrams'],
        secondary: ['flowchart'],
      },
      {
        id: 'F2',
        caption: 'Admissions for cellulitis before and after the pathway.',
        mentions: [`Admissions fell by a third (${xref('F2', 'Figure 2')}).`],
        primary: ['Chart'],
        secondary: ['bar chart'],
      },
      {
        id: 'F3',
        caption: 'Example of a marked cellulitis border used in the pathway training.',
        mentions: [
          `Staff were taught to mark the erythema border (${xref('F3', 'Figure 3')}) to judge progression.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
        broken: 'no-labels',
      },
    ],
  },
  {
    pmcid: 'PMC0000124',
    category: 21,
    title: 'Folliculitis decalvans and furunculosis of the scalp in a young man',
    journal: 'Synthetic Journal of Dermatology Cases',
    date: '2024-01-19',
    license: 'CC BY',
    keywords: ['folliculitis', 'scalp', 'Staphylococcus aureus'],
    mesh: ['Folliculitis', 'Scalp Dermatoses', 'Staphylococcal Skin Infections'],
    abstract:
      'A 29-year-old man had painful pustules and boils of the scalp; cultures grew Staphylococcus aureus and he improved with doxycycline.',
    figures: [
      {
        id: 'F1',
        caption: 'Follicular pustules and crusted papules on the vertex of the scalp.',
        mentions: [
          `Follicular pustules clustered on the vertex (${xref('F1', 'Figure 1')}), with tufting of hairs in places.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'A fluctuant furuncle at the occiput with surrounding erythema.',
        mentions: [`A furuncle developed at the occiput (${xref('F2', 'Figure 2')}).`],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F3',
        caption:
          'Scalp after eight weeks of doxycycline: resolution of pustules with small scarred patches.',
        mentions: [`Pustules resolved, leaving small scars (${xref('F3', 'Figure 3')}).`],
        primary: CLINICAL,
        secondary: SKIN,
      },
    ],
  },
  {
    pmcid: 'PMC0000125',
    category: 21,
    title: 'Preseptal cellulitis after an insect bite of the eyelid',
    journal: 'Synthetic Journal of Pediatric Dermatology',
    date: '2020-07-07',
    license: 'CC BY',
    keywords: ['periorbital cellulitis', 'preseptal cellulitis', 'children'],
    mesh: ['Orbital Cellulitis', 'Insect Bites and Stings', 'Child'],
    abstract:
      'A six-year-old girl developed painful swelling and redness of the upper eyelid after an insect bite; eye movements and vision were normal.',
    figures: [
      {
        id: 'F1',
        caption:
          'Erythematous, warm swelling of the right upper and lower eyelids with partial closure of the eye.',
        mentions: [
          `The eyelids were swollen, red and tender (${xref('F1', 'Figure 1')}), but ocular movements were full and painless, arguing against orbital involvement.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Resolution of the eyelid swelling after three days of oral co-amoxiclav.',
        mentions: [`The swelling settled within three days (${xref('F2', 'Figure 2')}).`],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F3',
        caption: 'Axial CT of the orbits showing preseptal soft-tissue swelling only.',
        mentions: [`CT showed no postseptal collection (${xref('F3', 'Figure 3')}).`],
        primary: CLINICAL,
        secondary: ['computerized tomography'],
      },
    ],
  },
  {
    pmcid: 'PMC0000126',
    category: 21,
    title: 'Pitted keratolysis in a military recruit',
    journal: 'Synthetic Occupational Dermatology',
    date: '2018-04-04',
    license: 'CC BY',
    keywords: ['pitted keratolysis', 'hyperhidrosis', 'Kytococcus sedentarius'],
    mesh: ['Keratoderma, Palmoplantar', 'Hyperhidrosis', 'Gram-Positive Bacterial Infections'],
    abstract:
      'A recruit wearing occlusive boots had malodorous feet with crateriform pits on the soles; topical erythromycin and antiperspirant cleared them.',
    figures: [
      {
        id: 'F1',
        caption:
          'Multiple small crateriform pits, some coalescing, on the weight-bearing areas of the sole.',
        mentions: [
          `Clustered pits on the pressure areas of the soles (${xref('F1', 'Figure 1')}) and a strong odour suggested pitted keratolysis.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'The pits became more visible after soaking the feet in water.',
        mentions: [`Soaking accentuated the pits (${xref('F2', 'Figure 2')}).`],
        primary: CLINICAL,
        secondary: SKIN,
      },
    ],
  },
  {
    pmcid: 'PMC0000127',
    category: 4,
    title: 'Crusted scabies in a nursing home resident',
    journal: 'Synthetic Reports in Infectious Diseases',
    date: '2021-11-30',
    license: 'CC BY-NC',
    keywords: ['scabies', 'Sarcoptes scabiei', 'nursing home'],
    mesh: ['Scabies', 'Nursing Homes'],
    abstract:
      'An elderly resident had thick crusts on the hands; microscopy of scrapings showed numerous mites, and an outbreak among staff followed.',
    figures: [
      {
        id: 'F1',
        caption:
          'Thick grey hyperkeratotic crusts on the dorsum of the hands and between the fingers.',
        mentions: [
          `Thick crusts covered the hands (${xref('F1', 'Figure 1')}); scrapings were teeming with ${italic('Sarcoptes scabiei')}.`,
        ],
        primary: CLINICAL,
        secondary: SKIN,
      },
      {
        id: 'F2',
        caption: 'Burrows and excoriated papules on the wrist of a staff member.',
        mentions: [`Staff members developed burrows at the wrists (${xref('F2', 'Figure 2')}).`],
        primary: CLINICAL,
        secondary: SKIN,
      },
    ],
  },
];
