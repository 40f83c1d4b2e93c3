// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

/// @notice What ZkLink needs from a Groth16 verifier (src/Groth16Verifier.sol): one for each block
/// shape and one for the exit circuit.
interface IGroth16Verifier {
    function verifyProof(uint256[8] calldata proof, uint256 input) external view returns (bool);
}

/// @notice The ERC-20 calls ZkLink makes (return values are checked where present).
interface IERC20Like {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
    function balanceOf(address owner) external view returns (uint256);
}

/// @title What ZkLink and ZkLinkPeriphery share: configuration, storage, events, errors, helpers
/// @notice Both contracts run on the storage of one ZkLinkProxy per chain (ZkLink by the proxy's
/// delegatecall, ZkLinkPeriphery by ZkLink's), so they must declare exactly this storage and
/// upgrades may only append to it. The configuration is in immutables: both are deployed with
/// the same `Config`, and an upgrade must keep it. Byte layouts: docs/protocol.md §8, §9, §13.
abstract contract ZkLinkBase {
    // ---------------------------------------------------------------- protocol constants (§8, §9)
    uint256 internal constant CHUNK_BYTES = 24;
    uint8 internal constant OP_DEPOSIT = 0x01;
    uint8 internal constant OP_WITHDRAW = 0x03;
    uint8 internal constant OP_FULL_EXIT = 0x05;
    uint8 internal constant OP_CHANGE_PUBKEY = 0x06;
    uint8 internal constant OP_FORCED_EXIT = 0x07;
    /// Token id 1 is the L2-only USD; ids 17..=31 are stablecoins that may be credited as USD.
    uint16 internal constant USD_TOKEN_ID = 1;
    uint16 internal constant MIN_STABLECOIN_ID = 17;
    uint16 internal constant MAX_STABLECOIN_ID = 31;
    uint16 internal constant MIN_USER_TOKEN_ID = 17;
    /// Account 1: the global asset account nobody controls (its address, like every pool's,
    /// starts with 8 ff bytes: reserved, see ZkLink.deposit).
    uint32 internal constant GLOBAL_ASSET_ACCOUNT_ID = 1;
    /// A commitment as a BN254 scalar: its top 3 bits cleared (§9, §11).
    uint256 internal constant INPUT_MASK = type(uint256).max >> 3;
    /// L2 amounts are u128 with 18 decimals.
    uint256 internal constant L2_DECIMALS = 18;
    /// Fast-withdrawal fee ratios are in basis points.
    uint16 internal constant MAX_FEE_RATIO = 10_000;
    /// secp256k1 order / 2: higher s values are malleable duplicates and rejected.
    uint256 internal constant SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    /// ERC-1967 implementation slot (keccak256("eip1967.proxy.implementation") − 1).
    bytes32 internal constant IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;

    // ---------------------------------------------------------------- configuration
    /// A deployment's fixed parameters (the same on ZkLink and ZkLinkPeriphery).
    struct Config {
        uint32 networkId; // distinguishes deployments in oracle attestations
        uint8 chainId; // this chain's zklink chain id, 1..=chainCount
        uint8 chainCount; // connected chains
        bool dataAvailability; // whether this chain receives the full pubdata of every block
        uint8 accountBits; // preset bounds (§2): account ids < 2^accountBits
        uint8 subAccountBits; // sub-accounts < 2^subAccountBits
        uint64 priorityExpirationBlocks; // L1 blocks a request may wait before exodus can start
    }

    uint32 public immutable NETWORK_ID;
    uint8 public immutable CHAIN_ID;
    uint8 public immutable CHAIN_COUNT;
    bool public immutable DATA_AVAILABILITY;
    uint8 public immutable ACCOUNT_BITS;
    uint8 public immutable SUB_ACCOUNT_BITS;
    uint64 public immutable PRIORITY_EXPIRATION_BLOCKS;
    /// EIP-712 domain of oracle attestations: no chain id or contract, so one signature is valid
    /// on every connected chain (the message carries the network id).
    bytes32 public immutable ORACLE_DOMAIN_SEPARATOR;

    // ---------------------------------------------------------------- storage (append only)
    bool internal initialized;
    bool internal locked;
    /// The Timelock that governs this deployment.
    address public governor;
    mapping(address => bool) public validators;
    /// Groth16 verifier per block shape (chunk count), and of the exit circuit.
    mapping(uint32 => address) public blockVerifiers;
    address public exitVerifier;

    struct Token {
        address token; // address(0) for the native coin
        uint8 decimals;
        bool registered;
        bool paused; // pausing stops deposits only
        uint128 maxDeposit; // per deposit, in L2 units (18 decimals)
    }

    mapping(uint16 => Token) public tokens;
    mapping(address => uint16) public tokenIds;

    struct PriorityRequest {
        bytes32 hashedPubData; // keccak256 of the op's pubdata with the fields L1 cannot know zeroed
        uint64 expirationBlock;
        uint8 opType;
    }

    mapping(uint64 => PriorityRequest) public priorityRequests;
    /// The oldest request not yet executed, and how many from it are open.
    uint64 public firstPriorityRequestId;
    uint64 public totalOpenPriorityRequests;
    /// Requests consumed by committed (not yet executed) blocks, counted from firstPriorityRequestId.
    uint64 public totalCommittedPriorityRequests;

    /// What is kept of a block: its hash is stored, callers pass the struct back.
    struct StoredBlockInfo {
        uint32 blockNumber;
        uint64 priorityOperations; // this chain's priority requests the block consumed
        bytes32 pendingOnchainOpsHash; // keccak chain of the ops that pay out at execution
        uint64 timestamp;
        bytes32 stateRoot;
        bytes32 commitment;
        bytes32 syncHash;
    }

    mapping(uint32 => bytes32) public storedBlockHashes;
    uint32 public totalBlocksCommitted;
    uint32 public totalBlocksProven;
    uint32 public totalBlocksSynced;
    uint32 public totalBlocksExecuted;

    /// On-chain change-pubkey authorisations: owner → account nonce → pubkey hash.
    mapping(address => mapping(uint32 => bytes20)) public authFacts;

    /// The oracle set and how many of its signatures sync a block.
    mapping(address => bool) public isOracle;
    address[] internal oracleList;
    uint16 public oracleThreshold;

    /// Executed withdrawals waiting to be claimed, in L1 units: owner → token id → amount.
    mapping(address => mapping(uint16 => uint128)) public pendingBalances;
    /// Fast withdrawals: withdrawal key → who is paid at execution (the acceptor), or the receiver
    /// once executed without one (so a late accept cannot pay a withdrawal twice).
    mapping(bytes32 => address) public withdrawalPayee;

    /// Irreversible: no more blocks; users exit with proofs against the last executed root.
    bool public exodusMode;
    /// Exits paid in exodus: keccak(account, sub-account, L2 token, reserve token) → done.
    mapping(bytes32 => bool) public exodusPerformed;

    // ---------------------------------------------------------------- events
    event NewPriorityRequest(
        address indexed sender, uint64 indexed serialId, uint8 opType, bytes pubData, uint64 expirationBlock
    );
    /// The block as stored (its keccak is `storedBlockHashes[blockNumber]`): what an oracle needs
    /// to check a chain's history and to call `syncBlocks`, without trusting the operator.
    event BlockCommit(uint32 indexed blockNumber, StoredBlockInfo info);
    event BlockProven(uint32 indexed blockNumber);
    event BlocksSynced(uint32 indexed blockNumber, bytes32 syncHash, uint256 signatures);
    event BlockExecuted(uint32 indexed blockNumber, bytes32 stateRoot);
    event BlocksRevert(uint32 totalBlocksExecuted, uint32 totalBlocksCommitted);
    event PendingBalance(address indexed owner, uint16 indexed tokenId, uint128 amount);
    event Withdrawn(address indexed owner, uint16 indexed tokenId, uint128 amount);
    event WithdrawalAccepted(bytes32 indexed key, address indexed acceptor, address receiver, uint128 paid);
    event ExodusMode(uint64 expiredSerialId);
    event ExodusPerformed(
        uint32 indexed accountId, uint8 subAccountId, uint16 l2TokenId, uint16 reserveTokenId, uint128 amount
    );
    event DepositRefunded(uint64 indexed serialId, address owner, uint16 tokenId, uint128 amount);
    event TokenAdded(uint16 indexed tokenId, address token, uint8 decimals, uint128 maxDeposit);
    event TokenPaused(uint16 indexed tokenId, bool paused);
    event ValidatorStatus(address indexed validator, bool active);
    event BlockVerifierSet(uint32 indexed chunks, address verifier);
    event ExitVerifierSet(address verifier);
    event OracleSet(address[] oracles, uint16 threshold);
    event GovernorChanged(address governor);
    event Upgraded(address indexed implementation);
    event AuthPubkeyHash(address indexed owner, uint32 nonce, bytes20 pubKeyHash);

    // ---------------------------------------------------------------- errors
    error NotGovernor();
    error NotValidator();
    error Reentrancy();
    error AlreadyInitialized();
    error BadConfig(string what);
    error TokenNotListed(uint16 tokenId);
    error TokenAlreadyListed(uint16 tokenId);
    error DepositsPaused(uint16 tokenId);
    error BadDeposit(string reason);
    error BadFullExit(string reason);
    error TransferFailed();
    error WrongBlockNumber(uint32 expected, uint32 got);
    error StoredBlockMismatch(uint32 blockNumber);
    error BadTimestamp(uint64 previous, uint64 got);
    error BadPubdata(string reason);
    error BadOnchainOp(uint256 offset, string reason);
    error PriorityQueueMismatch(uint64 serialId, uint256 offset);
    error PriorityQueueExhausted(uint256 offset);
    error ChainHashMismatch(bytes32 expected, bytes32 got);
    error BadChangePubKeyAuth(uint256 offset, string reason);
    error NoVerifier(uint32 chunks);
    error InvalidProof(uint32 blockNumber);
    error NothingToDo();
    error AlreadySynced(uint32 totalBlocksSynced, uint32 blockNumber);
    error UnknownOracle(address signer);
    error SignaturesNotSorted(address previous, address signer);
    error BadSignature(uint256 index);
    error TooFewSignatures(uint256 got, uint256 threshold);
    error NotProven(uint32 blockNumber);
    error NotSynced(uint32 blockNumber);
    error PendingOpsMismatch(uint32 blockNumber);
    error AlreadyExecuted(uint32 blockNumber);
    error InsufficientPendingBalance(uint128 available, uint128 requested);
    error AlreadyAccepted(bytes32 key, address payee);
    error BadAccept(string reason);
    error ExodusActive();
    error NotExodus();
    error NotExpired(uint64 serialId, uint64 expirationBlock);
    error ExodusAlreadyPerformed(bytes32 key);
    error BadExitClaim(string reason);
    error InvalidExitProof();

    modifier onlyGovernor() {
        if (msg.sender != governor) revert NotGovernor();
        _;
    }

    modifier onlyValidator() {
        if (!validators[msg.sender]) revert NotValidator();
        _;
    }

    modifier nonReentrant() {
        if (locked) revert Reentrancy();
        locked = true;
        _;
        locked = false;
    }

    modifier active() {
        if (exodusMode) revert ExodusActive();
        _;
    }

    /// Validates and fixes `c`. The contract deployed here is an implementation: it is marked
    /// initialised so that only a proxy's storage is ever initialised.
    constructor(Config memory c) {
        if (c.chainId == 0 || c.chainId > c.chainCount) revert BadConfig("chain id must be in 1..=chain count");
        if (c.accountBits == 0 || c.accountBits > 32 || c.subAccountBits > 8) revert BadConfig("preset bits");
        NETWORK_ID = c.networkId;
        CHAIN_ID = c.chainId;
        CHAIN_COUNT = c.chainCount;
        DATA_AVAILABILITY = c.dataAvailability;
        ACCOUNT_BITS = c.accountBits;
        SUB_ACCOUNT_BITS = c.subAccountBits;
        PRIORITY_EXPIRATION_BLOCKS = c.priorityExpirationBlocks;
        ORACLE_DOMAIN_SEPARATOR = keccak256(
            abi.encode(keccak256("EIP712Domain(string name,string version)"), keccak256("zklink oracle"), keccak256("1"))
        );
        initialized = true;
    }

    // ---------------------------------------------------------------- helpers
    function _requireStored(StoredBlockInfo memory b) internal view {
        if (storedBlockHashes[b.blockNumber] != keccak256(abi.encode(b))) revert StoredBlockMismatch(b.blockNumber);
    }

    /// keccak256 of an op with the fields L1 cannot know zeroed: a deposit's account id (bytes
    /// 2..6), a full exit's amount (bytes 11..27). `op` is copied, never modified.
    function _queueHash(bytes memory op) internal pure returns (bytes32) {
        bytes memory copy = bytes.concat(op);
        if (uint8(copy[0]) == OP_DEPOSIT) {
            for (uint256 i = 2; i < 6; i++) copy[i] = 0;
        } else {
            for (uint256 i = 11; i < 27; i++) copy[i] = 0;
        }
        return keccak256(copy);
    }

    /// Removes the `n` oldest requests from the queue (executed, or refunded in exodus).
    function _popPriorityRequests(uint64 n) internal {
        uint64 first = firstPriorityRequestId;
        for (uint64 i = 0; i < n; i++) {
            delete priorityRequests[first + i];
        }
        firstPriorityRequestId = first + n;
        totalOpenPriorityRequests -= n;
    }

    /// 10^(18 − L1 decimals): L2 units per L1 unit of a listed token.
    function _scale(uint16 tokenId) internal view returns (uint256) {
        Token storage t = tokens[tokenId];
        if (!t.registered) revert TokenNotListed(tokenId);
        return 10 ** (L2_DECIMALS - t.decimals);
    }

    /// Adds `l1Amount` of `tokenId` to what `owner` can claim.
    function _creditPending(address owner, uint16 tokenId, uint128 l1Amount) internal {
        if (l1Amount == 0) return;
        pendingBalances[owner][tokenId] += l1Amount;
        emit PendingBalance(owner, tokenId, l1Amount);
    }

    /// The key of a withdrawal for fast-withdrawal bookkeeping: the Withdraw op's fields that say
    /// who gets what (the account nonce makes it unique).
    function _withdrawalKey(
        address receiver,
        uint16 l1TokenId,
        uint128 amount,
        uint16 feeRatio,
        uint32 accountId,
        uint8 subAccountId,
        uint32 nonce
    ) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(receiver, l1TokenId, amount, feeRatio, accountId, subAccountId, nonce));
    }

    /// Sends `amount` (L1 units) of a listed token; the native coin by call.
    function _send(uint16 tokenId, address to, uint256 amount) internal {
        address token = tokens[tokenId].token;
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert TransferFailed();
        } else {
            _callOptionalBool(token, abi.encodeCall(IERC20Like.transfer, (to, amount)));
        }
    }

    /// Calls an ERC-20 that may or may not return a bool (USDT-style tokens return nothing).
    function _callOptionalBool(address token, bytes memory data) internal {
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length != 0 && !abi.decode(ret, (bool))) || token.code.length == 0) revert TransferFailed();
    }
}
