import { describe, expect, it } from 'vitest';
import { studyPipeline } from '../../stages/pipeline.ts';
import { runCapturedCli } from '../cli-capture.ts';

// The stage keys of the demo and the paper spec as `plan --json` prints them on main at 003aab2,
// where the data-source seam (issue 27) was merged in: a store filled by either spec must stay a
// hit across the seam, and the merged branch plans exactly these. (Planned before the seam, at
// 253e2ca, the demo's data chain had the same keys; main's worker job contract had since moved its
// train, generate and evaluate keys, and the paper's current Gemini model its LLM stages; the
// tuned variants' train, generate and evaluate keys moved once more when train.py began to
// store adapters that name their base model portably.) A key
// that moves here makes every stored stage from it down run, and for the paper be paid for,
// again: update a literal only for a change meant to rerun that stage (a kind's version, its
// worker code, a spec's setting), and say so in the commit.
const DEMO_KEYS: Record<string, string> = {
  curate: '07f8d6aa1c7d6a4d0bfcac951398d0a23febc8feccf4e58310f37999818e39b1',
  annotate: 'b15c624363f66b4add2ce2a26b8758a240692227cf689dae503708f9225a4f66',
  select: '23b3609a3eeedd77407223c656d9117358f172fff241bf87b7b4cdab0098860d',
  'generate-qa': 'cad3b1c2e3674cfede65f13ea1df5e89f8fab1b7807c778b6e7c1717e427566b',
  'clean-qa': 'b67b895856751ffa3e460d706d221e678758b097e397912c1c3d62336251a857',
  split: '539dd0ab6912cc63e8165d36c56d3006fdcffe16ddd2d862d82232e244079b5b',
  distractors: 'e11bb9cc10e8a599be309fc11e34a1ecbf982fea1bbf494e739c0c1818725eda',
  'subset[6]': 'f17570c1130f4322fa94e8a771b7febd0c9055621887d92a13742ba207ac147f',
  'train[qa-6]': '8233d1414e917c039efc7789d881cb0130bc08253911591dbec475783a592167',
  'generate[qa-6]': 'd64da476d4b54e2927705c403fd2e032c648f4d61c008388893d29a68a7364ae',
  'evaluate[qa-6]': '478e2ec2ada256b5b823ceb3587c1ae4e5dd86e0202946517516b7a02de528d5',
  'subset[12]': '1095f5410526cb0a66cefe24caa9dd56880d607008eae3d09d9b5c855d8c24fd',
  'train[qa-12]': '2ffc544cb568b2e9a0e8aa1e0a97da66bab21a3809985b1b6a2a29b8e4a16776',
  'generate[qa-12]': '1fff5542f34704489af00f951cc61d7e600cd89636297ec13904ca856158f22d',
  'evaluate[qa-12]': 'ac34d2e0637c03f9ba492efc00647cb672f018988be7958486f652202459e0e9',
  'subset[all]': 'ac47c37ae227050d6eb691541af2fee1199abef47940b6455eba5f7fbe1a0806',
  'train[qa-all]': '4be3f89045ca6d216fe11d638637fe5540c45fe085ff1edab767f87dfc5ef8a8',
  'generate[qa-all]': '2d3d593422f3afbf0498942d28d57ec17d5609e75db4cb6dd9dbaee5322bb372',
  'evaluate[qa-all]': 'cc8c6bb95a7d02faa9bf5dfba75e647bdb3b307f3e591585065009e1e5cce32a',
  'train[caption-6]': 'c946893f3c6a11aa914604d4ab389e462aba7d467db06d3e88a4b5e33c8113ef',
  'generate[caption-6]': 'bdcee0cc77f7f726617a0bb5c8561bc6a0bb545193c373337d010fe070fb665a',
  'evaluate[caption-6]': '2df9a8d25ed02215e3b3cfe60fa1506415e896f8259c80ee956ab129a0d98631',
  'train[caption-12]': '2039e6ae57e43203d5e17a5db36f47a4013453cbc9e12d15a6767da5000d675f',
  'generate[caption-12]': '116031c29db9667d3379e7ed6b5af11d23ae663ed95732e93667be0ca68db188',
  'evaluate[caption-12]': '5f2f27d794e0423457b879375de886851d0717ba1e3d2d5a7862bfc32fff3764',
  'train[caption-all]': '3f9035c987ce363319da1cd5de56e5ff536a5762cca9a629b543d161e20a8b17',
  'generate[caption-all]': '48b65b3bff980859f6e59571fa906ac985294b4f1ec6850d05652af51dc81853',
  'evaluate[caption-all]': '2827f1bb750e743c7aadabe75ba73c6a799a09cbb5c83bebb47c6bd71a19b0a8',
  'train[qa_caption-6]': 'a1a5a8b34ac81b337fc0aab59d11e563919d74589adcf76a1c2d26fb72895151',
  'generate[qa_caption-6]': 'd6bc8105aac26aa3e79974ec5dc01226e7c7b605bb7f79bd4215a17a3d28e9d0',
  'evaluate[qa_caption-6]': '0b1335eb4b9bd7af4dce37bfb133a0aceab27b6d1125c9cb29a716a1f2811dfb',
  'train[qa_caption-12]': 'c7a153f4e4596cfd9f96202f04d3a510b6fd02f1e606bd071c9a93db825e3f35',
  'generate[qa_caption-12]': 'dd43323a07b978e65c2d01d26ce4801b0067a7c0a7af83037338815cfe99fc82',
  'evaluate[qa_caption-12]': '104b93a37a5d1ac3523ac21a2627c0161163a76da6a4a75393b443b370bdd6c3',
  'train[qa_caption-all]': 'eeb19518025a0b51d8f240058b2e609f24fe0c30bef4dc01e1faa8960e5ba0c4',
  'generate[qa_caption-all]': 'c5f7367aa3dd45d56df466da1652f3e74445d136f961b98f3209ba009c25742d',
  'evaluate[qa_caption-all]': 'd73e87557c98b1a7924552f8a9c1a699ca40b270def637434e2bc9ffe5d93433',
  'generate[baseline-untuned]': '41b513a2562b9d76df25b479ae6f08933d7382e6f49f36c1ebccdc0d9cd030d4',
  'evaluate[baseline-untuned]': '54dbd7212848db6d8c9996ff7e99945f211bf107d030adc1cadf89a611d33fa4',
};
const PAPER_KEYS: Record<string, string> = {
  curate: 'ac46e8a725690f4829146dc036b7f7f4f1d184d63ba7acc6971316e1587f393f',
  annotate: '5acd5bebf4c51cb7f1d26a853582b477a541465f4004249ae6a088e34d6c199f',
  select: 'c6564ba3aeb809ddaf22eda166ea40f881c458d92bd02b4ef73f52a2c7e5160e',
  'generate-qa': '1106f4a59165465a2cad3b0bc53491be2af1138fdbf2277f102542cc6b3c5c33',
  'clean-qa': '74981fd37ef19203128c6938967f75585582bdd0560eef2c9583a96dad80fe12',
  split: '1c7b9e15be85426b1d203083c2092b15cc56675bbaed122a126340ee4dfb6605',
  distractors: '822800851d59925bb252419e554f739d5c8fbf46c70e4f5c557c326011071af3',
  'subset[500]': 'da01cb4ffcace25d314c7c1387810949127b6b1325b53132f9cfcac1ef87d340',
  'train[qa-500]': '3c7b2d15ac1664494663c07559b5453baebe77f4e425f4b614298feccfebf80d',
  'generate[qa-500]': 'ea0a4a31e35b4804cf28917ceec46869886c52c307e3475c2e4260c9a6bc4f00',
  'evaluate[qa-500]': 'e0cbcf4a1a9f742dfc02a61f5a0ce0745541190c12cf6eb4b0276787d3006bc1',
  'subset[1000]': 'e6433de4f0d33123a0585446632a069ec14d281628bf4c713bbf5aca15e8c31a',
  'train[qa-1000]': '359d4398f2d31c981e011577cea92074e15fc1b9078bc2aa814b861e127c2a28',
  'generate[qa-1000]': 'd0e6393ceeff8afb4aaab2cc6dfce8dbc66986116841a3ae39c2000bfb4c75ac',
  'evaluate[qa-1000]': 'ee08012427d2576ba38966de18697634d3efb1f83bc3c077a99ddeb78adf72f2',
  'subset[all]': 'ca2db68ba14a621b26fd6596cb7417497d2427eabc1d51aefeb4865ed3ccbcce',
  'train[qa-all]': 'be54ca53c483e7fb7a2d40b2992f46629004a3d338f604a579df2a2a6458b5e3',
  'generate[qa-all]': '8d4369df96526a589b55c89e32d6de6a8affff552d48c6e5f6ae281833608980',
  'evaluate[qa-all]': '14fec78bd5853ab7f8d05937216a2705107234f84a393a10a3b4de0a301456b7',
  'train[caption-500]': 'e0ffd2439b19be05cb609694bf2a661b596bc3367cf0b903331a8378796108c9',
  'generate[caption-500]': '9cd12ea620bff96a515c3e503206556a25c93ffde80c8b7d55194ce8e7069710',
  'evaluate[caption-500]': '327696373edff1fb4914f40d09cf14131081e9111fce6c4efcbfe6be1088d91b',
  'train[caption-1000]': '01924a2e0fa80c1ad80e707b279278f58ff2c64ffbafc3334e08d2ddcb6a0e6f',
  'generate[caption-1000]': '2c7edb79deb9f7ad008203d2478b70a7391597bcfddc33e24abe7d39c49d99ca',
  'evaluate[caption-1000]': '6b16185ac027d8ce840aa27026a01cb19d7dade401f474c67be77b5442b94618',
  'train[caption-all]': 'c4d32b86a5e379c82286c0231114e01261f7cfc5e32d39324cd59deeb9d46097',
  'generate[caption-all]': '268772d8d915a018299643fb2bbd897ff308dfdcdcb63b2648dbca0129976ff1',
  'evaluate[caption-all]': '2191f7baf8dda00f7ab235ce9390eaa062d8898d0226faca52ce7b4bd7e14c2b',
  'train[qa_caption-500]': '5ab285e2d0634ee81294551959e95ec86dae973ca51f005f96187af0886fd257',
  'generate[qa_caption-500]': '620caaa678852a7661115f7ad01e3864061ceaa2d439bb8e1abd4f8d73baf3fe',
  'evaluate[qa_caption-500]': 'cf3bbb3f3e34f5a87c23b0fec22eca27d81c59f6ee21153f459cc3f62d957e44',
  'train[qa_caption-1000]': 'ed29322f77f0eda11ca99935439f2d2320053b9c9f5825638c2a844389698fa5',
  'generate[qa_caption-1000]': '74fa3f9bd1a3af03265dcf304dd1fd3204208715455e61f734160e6db246c9f6',
  'evaluate[qa_caption-1000]': '63ee67305dc73d856bfc1ebe5f9a304e2109c8155392c95ec9169f0c87309fae',
  'train[qa_caption-all]': '7ffd269375774d824698f58e827a21d49d7b68a65238075024d5ea99598efe85',
  'generate[qa_caption-all]': '2aa342e1b9a5f33375fc6dd64324d806fba25b2da337fba382fded3d4571f3bf',
  'evaluate[qa_caption-all]': '6e13c754be9d18087fc69a878bb0cde6649f3538f7b1f4bf1b6470ea51f0bb09',
  'generate[SmolVLM-Instruct]': 'f4835a379d071e59bf91bbe43728ef4b8610aa898a27f473332c26fc96036073',
  'evaluate[SmolVLM-Instruct]': '050bc0dd1412afc1c21e4ffaa09c84881688c4357c389255108646ed2b0dcc85',
};

async function plannedKeys(spec: string): Promise<Record<string, string>> {
  const plan = await runCapturedCli(['plan', spec, '--json'], {
    pipeline: studyPipeline,
    cwd: process.cwd(),
    // The paper's source names a branch; with the hub out of reach (a closed local port) its
    // curate key says the source is unpinned, the same on every machine without the hub.
    env: { DERMATUNE_STORE: '/nonexistent-store-for-plan', HF_ENDPOINT: 'http://127.0.0.1:9' },
  });
  expect(plan.code, plan.stderr).toBe(0);
  const { nodes } = JSON.parse(plan.stdout) as { nodes: { id: string; key: string }[] };
  return Object.fromEntries(nodes.map((node) => [node.id, node.key]));
}

describe('stage keys across the data-source seam', () => {
  it("the demo's stage keys are those it had before the seam", async () => {
    expect(await plannedKeys('experiments/demo.yaml')).toEqual(DEMO_KEYS);
  });

  it("the paper spec's stage keys are those it had before the seam", async () => {
    expect(await plannedKeys('experiments/paper.yaml')).toEqual(PAPER_KEYS);
  });
});
