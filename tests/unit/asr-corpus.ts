// Known sentences for the transcription tests, spoken by the project's Kokoro voices (see asr-helpers).
export const ENGLISH: { voice: string; text: string }[] = [
  { voice: 'af_heart', text: 'The museum opens at nine in the morning and closes late on Fridays.' },
  { voice: 'bm_george', text: 'My brother planted a small garden behind the old stone house.' },
  { voice: 'am_michael', text: 'Please remember to water the plants while I am away next week.' },
  { voice: 'bf_emma', text: 'The train to the coast was delayed because of heavy snow.' },
  { voice: 'af_heart', text: 'She bought fresh bread, a bottle of milk and some green apples.' },
  { voice: 'bm_george', text: 'Our neighbours are building a wooden boat in their garage.' },
  { voice: 'am_michael', text: 'The children laughed when the dog chased its own tail.' },
  { voice: 'bf_emma', text: 'A quiet river runs through the valley below the mountains.' },
  { voice: 'af_heart', text: 'He forgot his umbrella and walked home in the pouring rain.' },
  { voice: 'bm_george', text: 'The library has thousands of books about history and science.' },
];

/** Spanish (ef_dora) and what it says in English. */
export const SPANISH = {
  voice: 'ef_dora',
  text: 'Hola, me llamo Dora. Hoy hace mucho sol y quiero ir a la playa con mis amigos.',
  english: [
    'hello',
    'my',
    'name',
    'is',
    'dora',
    'today',
    'sun',
    'sunny',
    'want',
    'go',
    'beach',
    'with',
    'friends',
  ],
  spanishWords: ['hola', 'llamo', 'hoy', 'hace', 'mucho', 'quiero', 'playa', 'con', 'mis', 'amigos'],
};
