import { describe, expect, it } from 'vitest';
import { studyPipeline } from '../../stages/pipeline.ts';
import { runCapturedCli } from '../cli-capture.ts';

// The stage keys of the demo and the paper spec as `plan --json` prints them on main at 003aab2,
// where the data-source seam (issue 27) was merged in: a store filled by either spec must stay a
// hit across the seam, and the merged branch plans exactly these. (Planned before the seam, at
// 253e2ca, the demo's data chain had the same keys; main's worker job contract had since moved its
// train, generate and evaluate keys, and the paper's current Gemini model its LLM stages.) A key
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
  'train[qa-6]': 'f2202767a54dfdbd0f4515dfed76f86dadad90fb38d8e10b47b48e557ff872fe',
  'generate[qa-6]': '4c04aef2bf3a650fcdd71a934716962c36111c188f75dd15ca432c42830191d8',
  'evaluate[qa-6]': 'ab238cb447decf769d4066b793fad1d42a4f7202e4e9e7ff913b621b511b518c',
  'subset[12]': '1095f5410526cb0a66cefe24caa9dd56880d607008eae3d09d9b5c855d8c24fd',
  'train[qa-12]': '21ba88b5d5a6a07fc35c6d7eceea71d150288bab1b398bce0579275d88ec3113',
  'generate[qa-12]': 'a1a9f7316dda7846d2c6f33c6673bf350f33b803f0814f6c9adae14342b3b82f',
  'evaluate[qa-12]': 'f805fdcbc723bb1c5a32c98dda5681dc91b40054f607ef660c8047547c9eb3fd',
  'subset[all]': 'ac47c37ae227050d6eb691541af2fee1199abef47940b6455eba5f7fbe1a0806',
  'train[qa-all]': '9a832c0043d2bbef36bbc1953a9701f17d68919813ac69230a255b99db8d135d',
  'generate[qa-all]': '51e81d5479e2c5cf1c419c99683b7e7e4324fdeb298e0ff33707a8a33078c3c2',
  'evaluate[qa-all]': 'eed4e05ee2d182e5177a5873b87dc4214d0d2161de944919ca346d9f7330c266',
  'train[caption-6]': 'f4263724d8f87f4c0eaa27ae6c9de866dd765aa6aebfa46d4dfb77e07fb6d1ab',
  'generate[caption-6]': 'dd6cb90e0e49d590c54207dbd8b7da625a40fbfaea19af73a2391830bd755b3c',
  'evaluate[caption-6]': 'd58addb622e7cabd930fcc4f7603e4e14f8f7119858e8de76128281e382807f7',
  'train[caption-12]': '23081a6bfadff5f3d58bdf9b1bc416fe14eb4c52c4d566aabedbc2f24b45aec1',
  'generate[caption-12]': '491c03e14e4034a1f9f82353d97c51908e32ad552b9e0e29c93db77e016bfbd2',
  'evaluate[caption-12]': '81a26f9dc27e5e077f9d6b367800bf811ca0e15d373bda82ed5736816633dde7',
  'train[caption-all]': '518448155ea560e8861d3af72401ce2a9f08fca0bda6d5fafce25f8316b299a3',
  'generate[caption-all]': 'da3f25fd23a1193712c0ff07ffee22285b078ffb1454c3b9e2d0522f29f67ccd',
  'evaluate[caption-all]': 'c8c79dcd558560dae74c629521087b5b4913c9b6251d3f411e1b80181869a253',
  'train[qa_caption-6]': '61c18626bceab9eaf28d6ea82b134e7dbac079d5000cd9657ef771f2906e08f4',
  'generate[qa_caption-6]': '62764173bc9043f0d9cf86911628e0ab99daed52ec4fc2e7d5911d99edbeeb25',
  'evaluate[qa_caption-6]': 'a92034a2cc24f056dfb62aa63087ab68fdba3cb7298d0bcb95e0bc7e02d6dd3f',
  'train[qa_caption-12]': '0eb2c27ee2ec2501fdf53365dfba3eab5b37a2d5100c86803e79dfed7e2b2237',
  'generate[qa_caption-12]': 'ad965f4680c5f414fee4b3d4677fb106671f397f29f7cfdde37672098a75432d',
  'evaluate[qa_caption-12]': 'df878ffdb526032e99055e152b620d1464d1f67b7cdf3857e6b24bb96e9f3d80',
  'train[qa_caption-all]': 'bcdda3876f8368b9efa610522d782e3ee45dbb1667c5d9de23be65484be8cdc6',
  'generate[qa_caption-all]': '023ec03683bbe5b81309f9517df9ddd12a329029719ba5afc2102efc414fa693',
  'evaluate[qa_caption-all]': '185240b28db714f6ffc2619131199115c603fb006788c3c1717101286e672196',
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
  'train[qa-500]': '744066d6ce8a14027fa6b208ecace50b0b4e32181e6d769fab74ee42c5c16735',
  'generate[qa-500]': 'e197b0ab537e520f6ad1ff683c789b4ed8e7d7e96092daff1d3037de89ecf50f',
  'evaluate[qa-500]': 'f16dfcc8675b6a3136fcf6462274981a4050ceeafd862c28d72462cad27aa14a',
  'subset[1000]': 'e6433de4f0d33123a0585446632a069ec14d281628bf4c713bbf5aca15e8c31a',
  'train[qa-1000]': 'be16af0e4b6beb63df403ffb642e68b444cbfa41343a7f81ee48f807e92a88ac',
  'generate[qa-1000]': '5c65cc050e5e26f2920571f0b5633eb77c76e0efabe575d7d7d324f799005df6',
  'evaluate[qa-1000]': '784d9b365463e123c8ec9d7e695d686cc3af699cfc2662d26cd1be9f3d8c1628',
  'subset[all]': 'ca2db68ba14a621b26fd6596cb7417497d2427eabc1d51aefeb4865ed3ccbcce',
  'train[qa-all]': '2a7163ba8ca7aae7cf1b727732786efb389cec209e2d37de646e82632fc98fc6',
  'generate[qa-all]': 'acb85fdc3453d5560dc4991316b5fd524c2bb9e047295e9547f663151d136ddc',
  'evaluate[qa-all]': '4ea4f21a728ec0def09ac38c2770296094bc872238820291e2f1f3c0e7736ccb',
  'train[caption-500]': '31d0036d8b6735dc18b2570188c2b4ba6fe3e364519d6e11ea81667056b9da11',
  'generate[caption-500]': '832e5bcc2a1ba1465b84ff86d15c957426f89172732ee3f7ec0bf8e22b9526fc',
  'evaluate[caption-500]': '8d03528a695a15f3e8cdc77a366d2d845783096bf6203b6261fb533594dbda6b',
  'train[caption-1000]': '106cbb3b1e50c0221afd0413f7765de09a98ae11e06c0318028ebcdbe71e8b36',
  'generate[caption-1000]': '3a21d04cc23f6ca1816c4bb4464e145ca312d73977c26f006ff04e6da44b593e',
  'evaluate[caption-1000]': '275cb8de56c5b42400f696ac3eb5a01ad5210b2840eeed0e4f0fa91fdf00991d',
  'train[caption-all]': '72737acd0b436858e7528218039f1e1394e42e45c5f8f6c294f457784bfbcb5a',
  'generate[caption-all]': '4614398071cdc7eb4ae11346aab7ed489633c69d2641c87a5916e121e4fc9581',
  'evaluate[caption-all]': '8e0b650e6848fcfee5cb4acaa4389865b49cd83282b85ad4222f23867bd742ec',
  'train[qa_caption-500]': 'dc9ef086c3bef7101965aa05643512e1e8bac593077774f3e645733508f4b310',
  'generate[qa_caption-500]': '6ad457fa1d3bfc1851b572ffb30389df2ff59bf65f39adac59027286bea1c176',
  'evaluate[qa_caption-500]': '8ca893e7bcc9b6b6e0874e5485b9f94dd2d99b967ddd0c091e8b1534f39a314c',
  'train[qa_caption-1000]': '4dd581c7a01d88aa8e7eb5ec260184ef09af8874120f1ff9c28677f1e4aa31a6',
  'generate[qa_caption-1000]': '6e3c9a273d81903c954c87e05802ceed01d9527b703874ad55f9a40d2c434255',
  'evaluate[qa_caption-1000]': 'c65a90a980a91111138616972df3f2d0668766b2ed6e8d95313f7f8ec70ff99d',
  'train[qa_caption-all]': '9c78757a56b6a75add1133311f88c79a547f4ae5c1127f69f5df2bfd0be8187f',
  'generate[qa_caption-all]': '278dbee8366bd60aad409b162694cfa2c759cbf48563030af32f738daab282f9',
  'evaluate[qa_caption-all]': 'b66edba02203ee1aa6b222df7fe78b41036672b376f6fcd1243fab1558a0c2df',
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
