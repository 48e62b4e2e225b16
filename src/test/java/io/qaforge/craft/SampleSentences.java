package io.qaforge.craft;

import java.util.List;

/**
 * Fifty sentences of varied length, topic and script (written for these tests; CRAFT's task
 * domains: biology, medicine, common sense, recipes, news).
 */
public final class SampleSentences {
  private SampleSentences() {}

  public static final List<String> ALL =
      List.of(
          "Mitochondria produce most of the cell's supply of adenosine triphosphate.",
          "The patient presented with a persistent dry cough and a low-grade fever for ten days.",
          "Whisk the eggs with sugar until pale, then fold in the sifted flour.",
          "If you leave ice cream in the sun, it melts.",
          "The central bank raised interest rates by a quarter of a percentage point on Tuesday.",
          "Yes.",
          "Photosynthesis converts light energy into chemical energy stored in glucose.",
          "Metformin is usually the first medication prescribed for type 2 diabetes.",
          "People carry umbrellas when the forecast says it will rain.",
          "Preheat the oven to 180 °C and grease a 23 cm round tin.",
          "The committee will publish its final report after the summer recess.",
          "DNA polymerase adds nucleotides to the 3' end of a growing strand.",
          "Chronic kidney disease is staged by the estimated glomerular filtration rate (eGFR).",
          "A glass dropped on a stone floor will probably break.",
          "Simmer the lentils for 25 minutes, stirring occasionally, until they are tender.",
          "Heavy snowfall closed three mountain passes and stranded hundreds of drivers overnight.",
          "Enzymes lower the activation energy of biochemical reactions.",
          "Beta blockers can mask the symptoms of hypoglycaemia in diabetic patients.",
          "You need a key or a code to open a locked door.",
          "Season the soup with salt, pepper and a squeeze of lemon juice just before serving.",
          "The museum reopened after a two-year renovation with a new wing for modern art.",
          "Ribosomes translate messenger RNA into a chain of amino acids.",
          "An MRI scan showed a small herniated disc between the L4 and L5 vertebrae.",
          "Plants on a windowsill grow toward the light.",
          "Knead the dough for ten minutes, cover it and let it rise in a warm place for an hour.",
          "Voter turnout reached 72 percent, the highest figure in two decades.",
          "Crossing over during meiosis increases the genetic diversity of gametes.",
          "Penicillin allergy is reported far more often than it is confirmed by testing.",
          "Wet clothes dry faster on a windy day.",
          "Caramelise the onions slowly over low heat; it takes at least thirty minutes.",
          "The football club announced the signing of a 19-year-old midfielder from Brazil.",
          "The Krebs cycle takes place in the mitochondrial matrix.",
          "Acute appendicitis typically begins with pain around the navel that moves to the lower"
              + " right abdomen.",
          "Someone who is hungry will look for something to eat.",
          "Toast the cumin seeds in a dry pan until fragrant, then grind them.",
          "Engineers inspected the bridge after a barge struck one of its pillars.",
          "Antibodies are produced by plasma cells derived from B lymphocytes.",
          "Hand hygiene is the single most effective measure against hospital-acquired infections.",
          "A candle goes out when it runs out of oxygen.",
          "Café au lait, crème brûlée and jalapeño: accents and tildes survive lowercasing.",
          "Ein kurzer deutscher Satz über das Wetter in Berlin.",
          "東京は日本の首都です。",
          "Gene expression can be silenced by methylation of promoter regions.",
          "The recommended adult dose of paracetamol is at most 4 g per day.",
          "Birds fly south before winter because food becomes scarce.",
          "Line the baking tray with parchment paper so the cookies do not stick.",
          "Shares of the chipmaker rose 8% after it beat quarterly revenue expectations.",
          "Natural selection acts on heritable variation within a population over many"
              + " generations, gradually changing allele frequencies in ways that improve the fit"
              + " between organisms and their environment.",
          "Question: Which organ filters the blood? Options: A) heart B) kidney C) lung D) skin."
              + " Answer: B",
          "   Leading and trailing   whitespace,\tand a tab.   ");
}
